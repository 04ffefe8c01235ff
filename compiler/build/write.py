"""`af build`: validate, assemble the bundle, write it atomically (and archive it).

Input: a repository folder (or a git revision of it), the environment, the output folder.
Output: `OUT/<project>-<version>/` (SPEC §3) and, with ``archive``, a reproducible
`OUT/<project>-<version>.tar.gz` beside it. A repository with errors writes nothing.

Writes never leave half a bundle: the files go to a fresh hidden folder beside the target,
which then takes the target's name; a bundle already there is moved aside first and removed
after. ``createdAt`` comes from ``SOURCE_DATE_EPOCH``, else the commit's time, else the epoch
(a folder outside git, built without ``SOURCE_DATE_EPOCH``): never the clock.

A rebuild of the same sources (by content: `cache`) reuses the bundle already written
without loading the compiler's stages. The stages are imported only when there is compiling
to do.

With ``scenarios``, the checked Scenarios are written too, to a file of their own
(`agentflow.bundle.scenario.scenarios_to_json`, canonical JSON, atomically), for the runtime's
`af test`. They never enter the bundle, its digest or a plan-cache key; the build compiles
(no cache reuse), since the scenarios are not in the cache, and writes the same bundle bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agentflow.compiler.build import cache
from agentflow.compiler.diagnostics.report import Diagnostic, UsageError
from agentflow.compiler.source.provenance import Provenance
from agentflow.compiler.source.read import read_source

if TYPE_CHECKING:
    from agentflow.bundle.scenario import Scenario
    from agentflow.compiler.build.assemble import Bundle


@dataclass(frozen=True, slots=True)
class BuildResult:
    diagnostics: tuple[Diagnostic, ...]
    files_checked: int
    name: str | None
    digest: str | None
    path: Path | None
    """None when the repository has errors: nothing was written."""
    archive: Path | None
    keys: Mapping[str, str]
    """Workflow → plan-cache key."""
    reused: bool
    """The sources had not changed since a build into the same folder: nothing was rewritten."""
    explanation: tuple[str, ...]
    """Per plan: reused, or rebuilt and why (against the last build of this bundle)."""


def build(
    root: Path,
    *,
    out: Path,
    rev: str | None = None,
    environment: str | None = None,
    archive: bool = False,
    environ: Mapping[str, str] = os.environ,
    scenarios: Path | None = None,
) -> BuildResult:
    snapshot, provenance = read_source(root, rev)
    created_at = creation_time(provenance, environ)
    print_ = cache.fingerprint(snapshot, provenance, environment, created_at)
    record = cache.lookup(out, print_) if scenarios is None else None
    if record is not None:
        path = out / record.name
        packed = _archive(path, out, record.name, created_at) if archive else None
        reused = tuple(f"{name}: unchanged: sources unchanged" for name in sorted(record.keys))
        return BuildResult(
            record.diagnostics,
            record.files_checked,
            record.name,
            record.digest,
            path,
            packed,
            record.keys,
            True,
            reused,
        )
    from agentflow.compiler.build.assemble import assemble_bundle
    from agentflow.compiler.pipeline import validate_snapshot

    validation = validate_snapshot(snapshot, environment=environment)
    report = validation.report
    diagnostics = tuple(report.diagnostics())
    if report.has_errors():
        return BuildResult(diagnostics, report.files_checked, None, None, None, None, {}, False, ())
    bundle = assemble_bundle(validation, provenance, created_at)
    path = write_bundle(bundle, out)
    if scenarios is not None:
        write_scenarios(validation.scenarios, bundle.digest, scenarios)
    packed = _archive(path, out, bundle.name, created_at) if archive else None
    inputs = _input_hashes(bundle)
    explanation = cache.explain(cache.previous(out, bundle.name, environment), inputs)
    keys = {name: item.key for name, item in bundle.keys.items()}
    record = cache.Record(
        bundle.name, bundle.digest, keys, inputs, diagnostics, report.files_checked
    )
    cache.store(out, print_, record, environment)
    return BuildResult(
        diagnostics,
        report.files_checked,
        bundle.name,
        bundle.digest,
        path,
        packed,
        keys,
        False,
        tuple(explanation),
    )


def creation_time(provenance: Provenance, environ: Mapping[str, str]) -> int:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org), else the commit time, else 0."""
    text = environ.get("SOURCE_DATE_EPOCH")
    if text is not None:
        if not text.isdigit():
            raise UsageError(f"SOURCE_DATE_EPOCH={text!r}: not a number of seconds")
        return int(text)
    return provenance.committed_at if provenance.committed_at is not None else 0


def _archive(path: Path, out: Path, name: str, created_at: int) -> Path:
    from agentflow.bundle.archive import write_archive

    return write_archive(path, out / f"{name}.tar.gz", mtime=created_at)


def _input_hashes(bundle: Bundle) -> dict[str, dict[str, str]]:
    from agentflow.bundle.canonical import canonical_json, sha256_digest

    return {
        name: {key: sha256_digest(canonical_json(value)) for key, value in item.inputs.items()}
        for name, item in bundle.keys.items()
    }


def write_scenarios(scenarios: tuple[Scenario, ...], digest: str, path: Path) -> None:
    """The checked scenarios for the bundle of ``digest``, as canonical JSON, atomically."""
    from agentflow.bundle.canonical import canonical_json
    from agentflow.bundle.scenario import scenarios_to_json

    data = canonical_json(scenarios_to_json(scenarios, digest))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise UsageError(f"{path}: cannot write the scenarios ({error.strerror})") from error
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
