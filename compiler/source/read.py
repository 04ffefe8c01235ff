"""The one source reader every command uses: PATH, or ``--rev REV`` read from git's objects.

`read_snapshot` is for commands that only check (``validate``, ``graph``); `read_source` also
says where the sources came from, for the bundle manifest (``build``, ``diff``), which asks git
about the work tree and so costs a few subprocesses more.
"""

from __future__ import annotations

from pathlib import Path

from agentflow.compiler.diagnostics.report import UsageError
from agentflow.compiler.source.provenance import NOT_IN_GIT, Provenance, folder_provenance
from agentflow.compiler.source.snapshot import Snapshot, read_folder


def read_snapshot(root: Path, rev: str | None = None) -> Snapshot:
    """``root`` as it is on disk, or as it is in git revision ``rev``."""
    return read_source(root, rev, provenance=False)[0]


def read_source(
    root: Path, rev: str | None = None, *, provenance: bool = True
) -> tuple[Snapshot, Provenance]:
    """What a build compiles and records: ``rev`` from the object store (GitPython loads only
    then), else the folder as it is on disk with ``HEAD`` and its ``dirty`` flag."""
    if rev is not None:
        from agentflow.compiler.source.git import read_revision

        return read_revision(root, rev)
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory")
    return read_folder(root), folder_provenance(root) if provenance else NOT_IN_GIT
