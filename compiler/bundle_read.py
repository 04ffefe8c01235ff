"""Reading bundles back: a folder, an archive or freshly assembled files → a `BundleView`.

Input: the files of a bundle (path → bytes), from `af build`'s folder, its ``.tar.gz``, or a
`bundle.Bundle` assembled in memory. Output: a frozen `BundleView`: the manifest, each plan as
`plan_ir.Plan` (via `plan_json.plan_from_json`) and each ExecProfile's JSON. Every reader checks
``formatVersion`` and the digests: a bundle of another format, or one edited after it was built,
is refused with `BundleReadError` rather than half understood.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from .canonical import canonical_json, sha256_digest
from .plan_ir import Plan
from .plan_json import PlanFormatError, plan_from_json

FORMAT_VERSION = "agentflow.bundle/v1"
MANIFEST = "bundle.json"
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
"""Unpacked size an archive may reach before it is refused (a bundle is kilobytes)."""


class BundleReadError(ValueError):
    """Not a bundle this compiler can read; the message says why."""


@dataclass(frozen=True, slots=True)
class BundleView:
    label: str
    """How the user named it: a git revision or a path."""
    manifest: Mapping[str, Any]
    plans: Mapping[str, Plan]
    """By workflow name."""
    profiles: Mapping[str, Mapping[str, Any]]
    """Each ExecProfile's JSON, by id."""

    @property
    def keys(self) -> Mapping[str, str]:
        return {w["name"]: w["planCacheKey"] for w in self.manifest["workflows"]}


def read_bundle(path: Path, label: str | None = None) -> BundleView:
    """A bundle folder (holding ``bundle.json``) or a ``.tar.gz`` written by `af build`."""
    shown = label or str(path)
    if path.is_dir():
        return view_of(folder_files(path), shown)
    if path.is_file():
        return view_of(_unpack(path), shown)
    raise BundleReadError(f"{shown}: no such bundle")


def folder_files(path: Path) -> dict[str, bytes]:
    """A bundle folder's files by their path inside it (hidden files aside)."""
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def view_of(files: Mapping[str, bytes], label: str) -> BundleView:
    """Check and read a bundle's files."""
    manifest = verified_manifest(files, label)
    try:
        plans = {
            w["name"]: plan_from_json(_json(files[w["plan"]], label, w["plan"]))
            for w in manifest["workflows"]
        }
        profiles = {
            p["id"]: _json(files[p["path"]], label, p["path"]) for p in manifest["profiles"]
        }
    except (KeyError, TypeError, PlanFormatError) as error:
        raise BundleReadError(f"{label}: {error}") from None
    return BundleView(
        label=label,
        manifest=MappingProxyType(manifest),
        plans=MappingProxyType(plans),
        profiles=MappingProxyType(profiles),
    )


def verified_manifest(files: Mapping[str, bytes], label: str) -> dict[str, Any]:
    """The manifest, once its format, its digest and every file's sha256 check out."""
    if MANIFEST not in files:
        raise BundleReadError(f"{label}: not a bundle (no {MANIFEST})")
    manifest = _json(files[MANIFEST], label, MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("formatVersion") != FORMAT_VERSION:
        found = manifest.get("formatVersion") if isinstance(manifest, dict) else None
        raise BundleReadError(
            f"{label}: a bundle of format {found!r}; this af reads {FORMAT_VERSION}"
        )
    body = {k: v for k, v in manifest.items() if k != "digest"}
    if sha256_digest(canonical_json(body)) != manifest.get("digest"):
        raise BundleReadError(f"{label}: {MANIFEST} does not match its digest (edited?)")
    listed = manifest.get("files")
    if not isinstance(listed, dict) or set(listed) != set(files) - {MANIFEST}:
        raise BundleReadError(f"{label}: its files are not the ones {MANIFEST} lists")
    for name, digest in listed.items():
        if "sha256:" + hashlib.sha256(files[name]).hexdigest() != digest:
            raise BundleReadError(f"{label}: {name} does not match its digest (edited?)")
    return manifest


def _json(data: bytes, label: str, name: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as error:
        raise BundleReadError(f"{label}: {name} is not JSON ({error})") from None


def _unpack(path: Path) -> dict[str, bytes]:
    """The files of an archive `af build --archive` wrote, read in memory: regular files only,
    no path leaving the archive's one top folder, bounded in size."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if member.isdir():
                    continue
                if not member.isfile() or len(parts) < 2 or ".." in parts or parts[0] == "/":
                    raise BundleReadError(f"{path}: unexpected entry {member.name!r}")
                total += member.size
                if total > MAX_ARCHIVE_BYTES:
                    raise BundleReadError(f"{path}: larger than a bundle can be")
                handle = archive.extractfile(member)
                assert handle is not None
                files["/".join(parts[1:])] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BundleReadError(f"{path}: not a readable .tar.gz ({error})") from None
    return files
