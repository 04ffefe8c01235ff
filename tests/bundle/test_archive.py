"""Reproducible archives: the same files give the same bytes, whoever writes them and where."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from agentflow.bundle.archive import ArchiveError, write_archive
from tests.conftest import ROOT

EPOCH = 1_700_000_000
FILES = {
    "bundle.json": b'{"formatVersion":"agentflow.bundle/v1"}',
    "plans/support-triage.json": b'{"planner":"fsm"}',
    "plans/a-plan.json": b"{}",
    "profiles/writer.json": b'{"agent":"writer"}',
    "profiles/r\u00e9sum\u00e9.json": b"{}",  # a non-ASCII name takes a pax header
    "plans/" + "long-" * 30 + ".json": b"{}",  # longer than ustar's 100-character names
}
_WRITE = (
    "import sys; from pathlib import Path; from agentflow.bundle.archive import write_archive; "
    "write_archive(Path(sys.argv[1]), Path(sys.argv[2]), mtime=int(sys.argv[3]))"
)


def make_bundle(root: Path, *, reverse: bool, file_mode: int, stamp: int) -> Path:
    """The same files, created in another order, with other modes and mtimes."""
    bundle = root / "support-desk-1.4.0"
    for name in sorted(FILES, reverse=reverse):
        path = bundle / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(FILES[name])
        path.chmod(file_mode)
        os.utime(path, (stamp, stamp))
    (bundle / "empty").mkdir()
    return bundle


def archive_in_subprocess(
    bundle: Path, out: Path, *, umask: str, tz: str, seed: str, lang: str
) -> bytes:
    env = {"PATH": os.environ["PATH"], "TZ": tz, "PYTHONHASHSEED": seed, "LC_ALL": lang}
    command = f'umask {umask} && exec "$0" -c "$1" "$2" "$3" "$4"'
    subprocess.run(
        ["sh", "-c", command, sys.executable, _WRITE, str(bundle), str(out), str(EPOCH)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    return out.read_bytes()


def test_two_machines_write_byte_identical_archives(tmp_path: Path) -> None:
    one = make_bundle(tmp_path / "one", reverse=False, file_mode=0o600, stamp=1)
    two = make_bundle(
        tmp_path / "two" / "deeper", reverse=True, file_mode=0o755, stamp=2_000_000_000
    )
    first = archive_in_subprocess(
        one, tmp_path / "one.tar.gz", umask="077", tz="UTC", seed="1", lang="C"
    )
    second = archive_in_subprocess(
        two,
        tmp_path / "out" / "two.tar.gz",
        umask="002",
        tz="Asia/Kolkata",
        seed="4242",
        lang="C.UTF-8",
    )
    assert first == second
    assert write_archive(one, tmp_path / "three.tar.gz", mtime=EPOCH).read_bytes() == first
    assert write_archive(one, tmp_path / "four.tar.gz", mtime=EPOCH + 1).read_bytes() != first


def test_entries_are_sorted_and_normalized(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path, reverse=True, file_mode=0o700, stamp=5)
    data = write_archive(bundle, tmp_path / "b.tar.gz", mtime=EPOCH).read_bytes()
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] == 0, "gzip flags: no file name, no comment"
    assert data[4:8] == b"\0\0\0\0", "gzip mtime is 0"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names[0] == "support-desk-1.4.0"
        assert names[1:] == sorted(names[1:])
        assert {m.uid for m in members} == {m.gid for m in members} == {0}
        assert {m.uname for m in members} == {m.gname for m in members} == {""}
        assert {m.mtime for m in members} == {EPOCH}
        assert {m.mode for m in members if m.isdir()} == {0o755}
        assert {m.mode for m in members if m.isfile()} == {0o644}
        for name, content in FILES.items():
            extracted = tar.extractfile(f"support-desk-1.4.0/{name}")
            assert extracted is not None and extracted.read() == content
    assert "support-desk-1.4.0/empty" in names
    assert gzip.decompress(data)  # one well-formed gzip member


def test_a_failed_write_leaves_the_old_archive_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = make_bundle(tmp_path / "src", reverse=False, file_mode=0o644, stamp=1)
    out = tmp_path / "out"
    good = write_archive(bundle, out / "b.tar.gz", mtime=EPOCH).read_bytes()
    calls = []

    def failing_addfile(self: tarfile.TarFile, *args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) == 3:
            raise OSError("disk full")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    original = tarfile.TarFile.addfile
    with monkeypatch.context() as patch:
        patch.setattr(tarfile.TarFile, "addfile", failing_addfile)
        with pytest.raises(OSError, match="disk full"):
            write_archive(bundle, out / "b.tar.gz", mtime=EPOCH + 5)
    assert (out / "b.tar.gz").read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == ["b.tar.gz"]
    (bundle / "plans" / "link.json").symlink_to("a-plan.json")
    with pytest.raises(ArchiveError, match=r"link\.json: not a regular file or folder"):
        write_archive(bundle, out / "b.tar.gz", mtime=EPOCH)
    assert (out / "b.tar.gz").read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == ["b.tar.gz"]
    assert oct((out / "b.tar.gz").stat().st_mode & 0o777) == oct(0o644)
