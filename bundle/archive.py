"""Reproducible archives: a directory → a ``.tar.gz`` whose bytes depend only on its files.

Input: a directory (a bundle) and the time to stamp. Output: ``<name>.tar.gz`` holding
``<name>/…``, written atomically (a temporary file beside it, then ``os.replace``), so a failed
write leaves no half archive and never clobbers a good one. Nothing of the machine leaks in:

- entries sorted by path, directories before what they hold;
- owner and group 0 with empty names, modes 0644 (files) and 0755 (folders), whatever the
  umask or the files' own modes;
- every mtime the given value (``SOURCE_DATE_EPOCH`` or the commit time), never the clock;
- pax format, whose headers hold only path and size records when a name needs them;
- a gzip header with mtime 0, no file name and a fixed OS byte (CPython writes 255).

The compressed bytes also depend on zlib: machines with the same zlib produce the same
archive, and the tar inside is identical everywhere.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from agentflow.bundle.manifest import BundleReadError

FILE_MODE = 0o644
DIR_MODE = 0o755
COMPRESS_LEVEL = 9


class ArchiveError(ValueError):
    """The directory holds something an archive of a bundle cannot (a link, a device)."""


def write_archive(source: Path, archive: Path, *, mtime: int, root_name: str | None = None) -> Path:
    """Archive ``source`` as ``archive`` with every entry under ``root_name`` (default: the
    directory's name); returns ``archive``."""
    entries = sorted(_walk(source), key=lambda item: item[0])
    prefix = root_name if root_name is not None else source.name
    archive.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(archive) as raw:
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=COMPRESS_LEVEL, mtime=0
        ) as zipped:
            with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.addfile(_info(prefix, tarfile.DIRTYPE, mtime))
                for relative, path, is_dir in entries:
                    name = f"{prefix}/{relative}"
                    if is_dir:
                        tar.addfile(_info(name, tarfile.DIRTYPE, mtime))
                        continue
                    with path.open("rb") as handle:
                        info = _info(
                            name, tarfile.REGTYPE, mtime, os.fstat(handle.fileno()).st_size
                        )
                        tar.addfile(info, handle)
    return archive


def _walk(source: Path) -> Iterator[tuple[str, Path, bool]]:
    """(relative POSIX path, path, is a directory) below ``source``; refuses anything else."""
    for dirpath, dirnames, filenames in os.walk(source):
        directory = Path(dirpath)
        for name in (*dirnames, *filenames):
            path = directory / name
            mode = path.lstat().st_mode
            relative = path.relative_to(source).as_posix()
            if stat.S_ISDIR(mode):
                yield relative, path, True
            elif stat.S_ISREG(mode):
                yield relative, path, False
            else:
                raise ArchiveError(
                    f"{path}: not a regular file or folder; bundles hold neither links nor devices"
                )


def _info(name: str, kind: bytes, mtime: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mtime = mtime
    info.mode = DIR_MODE if kind == tarfile.DIRTYPE else FILE_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


@contextlib.contextmanager
def _atomic(target: Path) -> Iterator[BinaryIO]:
    """A temporary file beside ``target`` that becomes ``target`` only if the block succeeds."""
    descriptor, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
"""Unpacked size an archive may reach before it is refused (a bundle is kilobytes)."""


def unpack_archive(source: Path | bytes, label: str | None = None) -> dict[str, bytes]:
    """The files of an archive `af build --archive` wrote (a path, or its bytes as uploaded),
    read in memory: regular files only, no path leaving the archive's one top folder, bounded
    in size."""
    shown = label or (str(source) if isinstance(source, Path) else "the archive")
    files: dict[str, bytes] = {}
    total = 0
    try:
        opened = (
            tarfile.open(source, mode="r:gz")
            if isinstance(source, Path)
            else tarfile.open(fileobj=io.BytesIO(source), mode="r:gz")
        )
        with opened as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if member.isdir():
                    continue
                if not member.isfile() or len(parts) < 2 or ".." in parts or parts[0] == "/":
                    raise BundleReadError(f"{shown}: unexpected entry {member.name!r}")
                total += member.size
                if total > MAX_ARCHIVE_BYTES:
                    raise BundleReadError(f"{shown}: larger than a bundle can be")
                handle = archive.extractfile(member)
                assert handle is not None
                files["/".join(parts[1:])] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BundleReadError(f"{shown}: not a readable .tar.gz ({error})") from None
    return files
