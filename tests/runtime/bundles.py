"""Bundles for runtime tests: the example repository compiled the way `af build --archive`
writes it, in a temporary folder."""

from __future__ import annotations

from pathlib import Path

from agentflow.bundle.archive import write_archive
from agentflow.compiler.build.assemble import assemble_bundle
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.provenance import NOT_IN_GIT
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO


def archive_of(root: Path = EXAMPLE_REPO, *, folder: Path, environment: str | None = None) -> bytes:
    """The archive of ``root``'s bundle (written below ``folder``)."""
    validation = validate_snapshot(read_folder(root), environment=environment)
    assert not validation.report.has_errors(), validation.report.diagnostics()
    bundle = assemble_bundle(validation, NOT_IN_GIT, 0)
    out = folder / bundle.name
    for name, data in bundle.files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return write_archive(out, folder / f"{bundle.name}.tar.gz", mtime=0).read_bytes()
