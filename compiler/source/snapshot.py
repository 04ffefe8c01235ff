"""Repository snapshot: a folder (or a git revision, `git`) → the files the compiler reads.

Input: a path. Output: a `Snapshot` of repo-relative POSIX paths with their bytes, each file read
exactly once. Nothing outside the repository is read: symlinks that leave it are refused, and no
file is read past `MAX_FILE_BYTES`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 1024 * 1024
"""Resource files are small; anything larger is almost certainly a mistake (or an attack)."""

RESOURCE_SUFFIXES = (".yaml", ".yml")
TEMPLATE_SUFFIXES = (".j2",)
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    """Repo-relative POSIX path."""
    data: bytes
    """The file's bytes, or its first `MAX_FILE_BYTES + 1` bytes when it is larger."""
    problem: str | None = None
    """Why the file could not be read in full (too large, a link out of the repo)."""
    link: str | None = None
    """For a symbolic link inside the repository: the repo-relative path it points to, so a
    template can refuse an asset that leads out of its own folder."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    root: str
    """How the user named the repository, for messages only: never part of a bundle."""
    files: tuple[SourceFile, ...]
    """Sorted by path."""

    def resource_files(self) -> tuple[SourceFile, ...]:
        """YAML files, and any other file that could not be read (a git submodule, a link), so
        its problem is reported whatever its name; template assets are the template stage's."""
        return tuple(
            f
            for f in self.files
            if f.path.endswith(RESOURCE_SUFFIXES)
            or (f.problem is not None and not f.path.endswith(TEMPLATE_SUFFIXES))
        )

    def get(self, path: str) -> SourceFile | None:
        for source in self.files:
            if source.path == path:
                return source
        return None


def read_folder(root: Path) -> Snapshot:
    """Read every resource and template file below ``root`` (hidden folders are skipped)."""
    resolved_root = root.resolve()
    files: list[SourceFile] = []
    for dirpath, dirnames, filenames in os.walk(resolved_root):
        dirnames[:] = sorted(d for d in dirnames if is_read_dir(d))
        for filename in filenames:
            if not is_read_file(filename):
                continue
            path = Path(dirpath) / filename
            relative = path.relative_to(resolved_root).as_posix()
            files.append(_read_file(path, relative, resolved_root))
    files.sort(key=lambda f: f.path)
    return Snapshot(root=str(root), files=tuple(files))


def is_read_dir(name: str) -> bool:
    """Whether a snapshot descends into a folder of this name (hidden ones are skipped)."""
    return not name.startswith(".") and name not in _SKIPPED_DIRS


def is_read_file(name: str) -> bool:
    """Whether a snapshot reads a file of this name: resources and template assets."""
    return not name.startswith(".") and name.endswith(RESOURCE_SUFFIXES + TEMPLATE_SUFFIXES)


def _read_file(path: Path, relative: str, root: Path) -> SourceFile:
    link = None
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root):
            return SourceFile(relative, b"", "is a symbolic link to a file outside the repository")
        link = target.relative_to(root).as_posix()
    if not path.is_file():  # a FIFO or device would block the read forever
        return SourceFile(relative, b"", "is not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return SourceFile(relative, b"", error.strerror or "cannot be read")
    return SourceFile(relative, data, link=link)
