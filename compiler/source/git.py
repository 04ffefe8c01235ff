"""A git revision read straight from the object store, with GitPython.   (`--rev`)

Input: a path inside a git repository and a revision. Output: the same `Snapshot` a folder
gives (`source.read_folder`), read from the commit's tree without touching the work tree or the
index, and its `Provenance`. The rules are those of a folder: hidden folders are skipped, no
file is read past `MAX_FILE_BYTES`. What a folder would follow but a tree cannot is a file
problem, reported like an unreadable file (AF113): a symbolic link (mode 120000) is not
followed, and a submodule (a gitlink, mode 160000) is not entered. A bad revision, a path that
is not in a repository, or objects missing from a shallow or partial clone are usage errors.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import git

from agentflow.compiler.diagnostics.report import UsageError
from agentflow.compiler.source.provenance import Provenance
from agentflow.compiler.source.snapshot import (
    MAX_FILE_BYTES,
    Snapshot,
    SourceFile,
    is_read_dir,
    is_read_file,
)

_TREE = 0o040000
_SYMLINK = 0o120000
_GITLINK = 0o160000
_CHUNK = 1 << 16


def read_revision(root: Path, rev: str) -> tuple[Snapshot, Provenance]:
    """The folder ``root`` as it is in commit ``rev``; the work tree is never read."""
    with _open_repo(root, for_rev=rev) as repo:
        prefix = _prefix(repo, root)
        commit = _resolve(repo, rev)
        try:
            tree = _subtree(commit.tree, prefix, rev)
            files = _read_tree(tree)
        except (ValueError, git.BadObject, git.GitCommandError) as error:
            raise UsageError(
                f"{rev}: the repository is missing objects of this revision "
                f"({_first_line(error)}); in a shallow or partial clone, fetch them first "
                "(git fetch --unshallow)"
            ) from None
        provenance = Provenance(
            commit=commit.hexsha,
            tree=tree.hexsha,
            path=prefix,
            committed_at=commit.committed_date,
            dirty=False,
        )
    snapshot = Snapshot(root=f"{root}@{rev}", files=tuple(sorted(files, key=lambda f: f.path)))
    return snapshot, provenance


def _open_repo(root: Path, *, for_rev: str) -> git.Repo:
    start = root.absolute()
    while not start.exists() and start.parent != start:
        start = start.parent  # a folder that exists only in the revision
    try:
        return git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(
            f"{root}: not in a git repository (--rev {for_rev} reads a commit from git)"
        ) from None


def _prefix(repo: git.Repo, root: Path) -> str:
    """``root`` relative to the repository's top, as a POSIX path (``""`` for the top)."""
    top = _top(repo)
    absolute = Path(os.path.realpath(root.absolute()))
    try:
        relative = absolute.relative_to(os.path.realpath(top))
    except ValueError:
        raise UsageError(f"{root}: not inside the repository at {top}") from None
    return "" if relative == Path(".") else relative.as_posix()


def _resolve(repo: git.Repo, rev: str) -> git.Commit:
    try:
        # git's own parser: every revision syntax (tags, HEAD~2, @{u}, :/msg), and
        # --end-of-options keeps a revision that starts with '-' from being read as a flag.
        sha = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        return repo.commit(sha)
    except (ValueError, git.BadName, git.BadObject, git.GitCommandError) as error:
        said = _git_said(error) if isinstance(error, git.GitCommandError) else ""
        reason = f" ({said})" if said else ""
        raise UsageError(f"{rev}: not a commit in the repository at {_top(repo)}{reason}") from None


def _subtree(tree: git.Tree, prefix: str, rev: str) -> git.Tree:
    if not prefix:
        return tree
    try:
        found = tree / prefix
    except KeyError:
        raise UsageError(f"{prefix}: no such folder in {rev}") from None
    if not isinstance(found, git.Tree):
        raise UsageError(f"{prefix}: not a folder in {rev}")
    return found


def _read_tree(top: git.Tree) -> list[SourceFile]:
    """Every file a folder snapshot would read, from the tree's objects, depth first."""
    files: list[SourceFile] = []
    stack: list[tuple[PurePosixPath, git.Tree]] = [(PurePosixPath(), top)]
    while stack:
        where, tree = stack.pop()
        for item in tree:
            # item.name fails on a gitlink without a .gitmodules entry; item.path never does
            name = PurePosixPath(item.path).name
            path = (where / name).as_posix()
            kind = item.mode & 0o170000
            if kind == _TREE:
                if is_read_dir(name) and isinstance(item, git.Tree):
                    stack.append((where / name, item))
            elif kind == _GITLINK:
                if is_read_dir(name):
                    files.append(SourceFile(path, b"", _SUBMODULE))
            elif is_read_file(name) and isinstance(item, git.Blob):
                files.append(_read_blob(item, path, symlink=kind == _SYMLINK))
    return files


_SUBMODULE = "is a git submodule, which a revision build does not enter (vendor its files)"


def _read_blob(blob: git.Blob, path: str, *, symlink: bool) -> SourceFile:
    if symlink:
        return SourceFile(path, b"", "is a symbolic link, which a revision build does not follow")
    stream = blob.data_stream
    data: bytes = stream.read(MAX_FILE_BYTES + 1)
    while stream.read(_CHUNK):  # drain the rest, or the next object read would get it
        pass
    return SourceFile(path, data)


def _top(repo: git.Repo) -> str:
    return str(repo.working_tree_dir or repo.git_dir)


def _git_said(error: git.GitCommandError) -> str:
    """git's own first line of complaint (GitPython wraps it as ``stderr: '…'``)."""
    text = str(error.stderr).strip().removeprefix("stderr:").strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1]
    return _first_line(text)


def _first_line(error: Exception | str) -> str:
    text = str(error).strip()
    if text or isinstance(error, str):
        return text.splitlines()[0] if text else ""
    return type(error).__name__
