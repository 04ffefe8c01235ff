"""Bundles as the runtime holds them: stored by digest, verified on every load, cached.

A bundle comes in as the archive `af build --archive` writes. Before it is stored it is read
the one way bundles are read (`agentflow.bundle.read`): ``formatVersion``, the manifest's digest
and every file's sha256 must check out, so a bundle edited after it was built never runs. A run
names the digest it started on and always executes that bundle, whatever is active since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentflow.bundle.archive import unpack_archive
from agentflow.bundle.manifest import BundleReadError
from agentflow.bundle.plan import Plan
from agentflow.bundle.profile import ExecProfile
from agentflow.bundle.read import BundleView, view_of
from agentflow.runtime.store.sql import SqlStore, Tx


@dataclass(frozen=True, slots=True)
class LoadedBundle:
    digest: str
    view: BundleView

    @property
    def plans(self) -> Mapping[str, Plan]:
        return self.view.plans

    @property
    def profiles(self) -> Mapping[str, ExecProfile]:
        return self.view.profiles

    @property
    def tools(self) -> Mapping[str, Any]:
        return getattr(self.view, "tools", {})

    @property
    def environment(self) -> str | None:
        environment = self.view.manifest.get("environment")
        return str(environment) if environment is not None else None


def read_archive(archive: bytes, label: str = "the bundle") -> LoadedBundle:
    """Verify and read an archive; raises `BundleReadError` for anything that is not an intact
    bundle of this format."""
    view = view_of(unpack_archive(archive, label), label)
    return LoadedBundle(str(view.manifest["digest"]), view)


def store_archive(tx: Tx, archive: bytes, now: int) -> tuple[LoadedBundle, bool]:
    """Store a verified bundle by its digest: (the bundle, whether it was new)."""
    bundle = read_archive(archive)
    manifest = bundle.view.manifest
    stored = tx.put_bundle(
        bundle.digest,
        str(manifest["project"]),
        str(manifest["version"]),
        dict(manifest),
        archive,
        now,
    )
    return bundle, stored


class BundleCache:
    """Bundles by digest, each read and verified once per process."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._loaded: dict[str, LoadedBundle] = {}

    def get(self, digest: str) -> LoadedBundle:
        found = self._loaded.get(digest)
        if found is None:
            archive = self._store.bundle_archive(digest)
            if archive is None:
                raise BundleReadError(f"bundle {digest} is not in the store")
            found = read_archive(archive, digest)
            if found.digest != digest:
                raise BundleReadError(f"the bundle stored as {digest} is {found.digest}")
            self._loaded[digest] = found
        return found
