"""Where sources came from: a folder on disk or a git revision, and its `Provenance`.

Input: a path (the repository's top, a folder below it, or a folder outside git) and, for
``--rev``, a revision. Output: the `Snapshot` to compile and its `Provenance` (commit, tree,
commit time, ``dirty``) for the bundle manifest (SPEC §3). A revision is read from the object
store by `git` (GitPython, loaded only then); a folder's provenance is asked of the
``git`` command, which is quick enough for a no-op rebuild.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from agentflow.compiler.diagnostics.report import UsageError


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where a snapshot came from: what the bundle manifest records as ``source``."""

    commit: str | None
    """The commit compiled (``--rev``) or checked out (``HEAD``); None outside git or before
    the first commit."""
    tree: str | None
    """The git tree of the compiled folder in that commit (the subtree for a folder below the
    repository's top)."""
    path: str
    """The compiled folder relative to the repository's top, POSIX; ``""`` for the top."""
    committed_at: int | None
    """The commit's committer time, seconds since the epoch: ``createdAt`` when
    ``SOURCE_DATE_EPOCH`` is not set. Never the wall clock."""
    dirty: bool | None
    """Working-tree builds: whether the folder differs from ``HEAD`` (staged, unstaged or
    untracked files). False for ``--rev``, which ignores the work tree; None outside git."""


NOT_IN_GIT = Provenance(commit=None, tree=None, path="", committed_at=None, dirty=None)


def folder_provenance(root: Path) -> Provenance:
    """The provenance of a working-tree build of ``root``: ``HEAD`` and whether it is dirty.

    Asked of the ``git`` command directly (four quick calls) rather than through GitPython,
    whose import alone costs more than a no-op rebuild should take.
    """
    located = _git(root, "rev-parse", "--is-bare-repository", "--show-prefix")
    if located is None or located.splitlines()[0] == "true":
        return NOT_IN_GIT
    lines = located.splitlines()
    prefix = lines[1].rstrip("/") if len(lines) > 1 else ""
    head = _git(root, "show", "-s", "--format=%H %ct", "HEAD^{commit}", "--")
    commit, committed_at = head.split() if head else (None, None)
    tree = _git(root, "rev-parse", "--verify", "-q", f"HEAD:{prefix}") if commit else None
    changes = _git(root, "status", "--porcelain", "--untracked-files=normal", "--", ".")
    if changes is None:
        raise UsageError(f"{root}: cannot read the git repository (git status failed)")
    return Provenance(
        commit=commit,
        tree=tree.strip() if tree else None,
        path=prefix,
        committed_at=int(committed_at) if committed_at is not None else None,
        dirty=bool(changes.strip()) or commit is None or not tree,
    )


def _git(root: Path, *args: str) -> str | None:
    """``git -C root ARGS``'s output, or None when git fails (or is not installed)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None
