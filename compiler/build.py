"""`af build`: validate, assemble the bundle, write it atomically (and archive it).

Input: a repository folder (or a git revision of it), the environment, the output folder.
Output: `OUT/<project>-<version>/` (SPEC §3) and, with ``archive``, a reproducible
`OUT/<project>-<version>.tar.gz` beside it. A repository with errors writes nothing.

Writes never leave half a bundle: the files go to a fresh hidden folder beside the target,
which then takes the target's name; a bundle already there is moved aside first and removed
after. ``createdAt`` comes from ``SOURCE_DATE_EPOCH``, else the commit's time, else the epoch
(a folder outside git, built without ``SOURCE_DATE_EPOCH``): never the clock.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .archive import write_archive
from .bundle import Bundle, assemble_bundle
from .diagnostics import UsageError
from .git_source import Provenance, read_source
from .pipeline import Validation, validate_snapshot


@dataclass(frozen=True, slots=True)
class BuildResult:
    validation: Validation
    bundle: Bundle | None
    """None when the repository has errors: nothing was written."""
    path: Path | None
    archive: Path | None


def build(
    root: Path,
    *,
    out: Path,
    rev: str | None = None,
    environment: str | None = None,
    archive: bool = False,
    environ: Mapping[str, str] = os.environ,
) -> BuildResult:
    snapshot, provenance = read_source(root, rev)
    validation = validate_snapshot(snapshot, environment=environment)
    if validation.report.has_errors():
        return BuildResult(validation, None, None, None)
    created_at = creation_time(provenance, environ)
    bundle = assemble_bundle(validation, provenance, created_at)
    path = write_bundle(bundle, out)
    packed = None
    if archive:
        packed = write_archive(path, out / f"{bundle.name}.tar.gz", mtime=created_at)
    return BuildResult(validation, bundle, path, packed)


def creation_time(provenance: Provenance, environ: Mapping[str, str]) -> int:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org), else the commit time, else 0."""
    text = environ.get("SOURCE_DATE_EPOCH")
    if text is not None:
        if not text.isdigit():
            raise UsageError(f"SOURCE_DATE_EPOCH={text!r}: not a number of seconds")
        return int(text)
    return provenance.committed_at if provenance.committed_at is not None else 0


def write_bundle(bundle: Bundle, out: Path) -> Path:
    """Write ``bundle`` as ``out/<name>/``, replacing a previous one only once complete."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{out}: cannot create the output folder ({error.strerror})") from error
    target = out / bundle.name
    staging = Path(tempfile.mkdtemp(prefix=f".{bundle.name}.", dir=out))
    try:
        staging.chmod(0o755)
        for relative, data in bundle.files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _replace_folder(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    if not target.is_dir() or target.is_symlink():
        raise UsageError(f"{target}: exists and is not a bundle folder; remove it first")
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.rename(target, old / target.name)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)
