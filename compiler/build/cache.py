"""The build cache: a rebuild of unchanged sources reuses the bundle already written.

Keyed on content, never on mtimes (a CI checkout resets them): the *fingerprint* of a build is
``sha256:`` over the compiler's version, the environment, the time to stamp, where the sources
came from (commit, tree, dirty) and the sha256 of every file read. A build records, under
``OUT/.af-cache/``, its fingerprint → the bundle's name and digest, its plan-cache keys and
warnings; and, per bundle name and environment, a hash of each plan's key inputs so that the
next build can say why each plan changed (`explain`).

A record is trusted only when the bundle it names is still there and verifies: its manifest's
digest and every file's sha256. A corrupt record, one of another format or compiler version, or
a bundle edited since, is ignored and rebuilt. This module imports nothing heavy, so a no-op
rebuild skips loading the compiler's stages altogether.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agentflow.compiler import __version__
from agentflow.compiler.diagnostics.report import Diagnostic
from agentflow.compiler.source.provenance import Provenance
from agentflow.compiler.source.snapshot import Snapshot

CACHE_DIR = ".af-cache"
CACHE_FORMAT = "agentflow.build-cache/v1"


@dataclass(frozen=True, slots=True)
class Record:
    """What a build left behind: enough to answer a rebuild without compiling."""

    name: str
    digest: str
    keys: Mapping[str, str]
    """Workflow → plan-cache key."""
    inputs: Mapping[str, Mapping[str, str]]
    """Workflow → key input → sha256 of that input, for `explain`."""
    diagnostics: tuple[Diagnostic, ...]
    """The warnings the build printed (a build with errors writes no bundle, no record)."""
    files_checked: int


def fingerprint(
    snapshot: Snapshot, provenance: Provenance, environment: str | None, created_at: int
) -> str:
    """Everything a bundle's bytes depend on, hashed; paths of the folder itself excluded."""
    described = {
        "format": CACHE_FORMAT,
        "compiler": __version__,
        "environment": environment,
        "createdAt": created_at,
        "source": [provenance.commit, provenance.tree, provenance.path, provenance.dirty],
        "files": [
            [f.path, hashlib.sha256(f.data).hexdigest(), f.problem, f.link] for f in snapshot.files
        ],
    }
    text = json.dumps(described, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def lookup(out: Path, print_: str) -> Record | None:
    """The record of a build with this fingerprint whose bundle is intact, else None."""
    data = _read_json(_record_path(out, print_))
    try:
        if data is None or data["format"] != CACHE_FORMAT or data["compiler"] != __version__:
            return None
        record = Record(
            name=str(data["name"]),
            digest=str(data["digest"]),
            keys={str(k): str(v) for k, v in data["keys"].items()},
            inputs={str(k): dict(v) for k, v in data["inputs"].items()},
            diagnostics=tuple(Diagnostic(**d) for d in data["diagnostics"]),
            files_checked=int(data["filesChecked"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a record this version cannot read: rebuild
    return record if bundle_intact(out / record.name, record.digest) else None


def store(out: Path, print_: str, record: Record, environment: str | None) -> None:
    data = {
        "format": CACHE_FORMAT,
        "compiler": __version__,
        "name": record.name,
        "digest": record.digest,
        "keys": dict(record.keys),
        "inputs": {k: dict(v) for k, v in record.inputs.items()},
        "diagnostics": [asdict(d) for d in record.diagnostics],
        "filesChecked": record.files_checked,
    }
    _write_json(_record_path(out, print_), data)
    _write_json(_last_path(out, record.name, environment), data)


def previous(out: Path, name: str, environment: str | None) -> Mapping[str, Mapping[str, str]]:
    """The key inputs of the last build of this bundle and environment (empty if none)."""
    data = _read_json(_last_path(out, name, environment))
    try:
        if data is None or data["format"] != CACHE_FORMAT:
            return {}
        return {str(k): dict(v) for k, v in data["inputs"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}


def explain(
    before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """One line per plan: reused, or rebuilt and why."""
    lines = []
    for name in sorted(after):
        old, new = before.get(name), after[name]
        if old is None:
            why = "rebuilt: new workflow" if before else "rebuilt: no earlier build to compare"
        elif old == new:
            why = "unchanged: same plan-cache key"
        else:
            moved = sorted(k for k in new.keys() | old.keys() if old.get(k) != new.get(k))
            why = "rebuilt: " + ", ".join(moved) + " changed"
        lines.append(f"{name}: {why}")
    lines += [f"{name}: removed" for name in sorted(before.keys() - after.keys())]
    return lines


def bundle_intact(folder: Path, digest: str) -> bool:
    """The bundle is there, verifies (`bundle_read.verified_manifest`) and has ``digest``."""
    from agentflow.bundle.manifest import BundleReadError, verified_manifest
    from agentflow.bundle.read import folder_files

    try:
        manifest = verified_manifest(folder_files(folder), str(folder))
    except (BundleReadError, OSError):
        return False
    return bool(manifest.get("digest") == digest)


def _record_path(out: Path, print_: str) -> Path:
    return out / CACHE_DIR / "builds" / f"{print_.removeprefix('sha256:')}.json"


def _last_path(out: Path, name: str, environment: str | None) -> Path:
    return out / CACHE_DIR / "last" / f"{name}@{environment or '-'}.json"


def _read_json(path: Path) -> Any:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Atomically: a reader sees the old record or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
