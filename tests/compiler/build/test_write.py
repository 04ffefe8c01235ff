"""`af build`: the bundle of SPEC §3, reproducible, verifiable, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import rfc8785

from agentflow.compiler.build.write import build
from tests.conftest import EXAMPLE_REPO, FIXTURES, ROOT, run_af

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
SCHEMAS = {
    name: jsonschema.Draft7Validator(
        json.loads((ROOT / "schemas" / f"{file}.schema.json").read_text())
    )
    for name, file in {
        "bundle": "bundle",
        "plan": "plan",
        "profile": "profile",
        "tool": "bundle-tool",
    }.items()
}


def outside_git(source: Path, tmp_path: Path) -> Path:
    """A copy of ``source`` in a folder no git repository holds."""
    copy = tmp_path / "src" / source.name
    shutil.copytree(source, copy)
    return copy


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def verify(bundle: Path) -> dict[str, Any]:
    """An independent verifier: only json, rfc8785 and hashlib, as docs/bundles.md shows."""
    manifest = json.loads((bundle / "bundle.json").read_bytes())
    claimed = manifest.pop("digest")
    assert claimed == "sha256:" + hashlib.sha256(rfc8785.dumps(manifest)).hexdigest()
    on_disk = {p: d for p, d in files_of(bundle).items() if p != "bundle.json"}
    assert sorted(manifest["files"]) == sorted(on_disk)
    for path, digest in manifest["files"].items():
        assert digest == "sha256:" + hashlib.sha256(on_disk[path]).hexdigest(), path
    for path, data in files_of(bundle).items():
        assert rfc8785.dumps(json.loads(data)) == data, f"{path} is not canonical JSON"
    return {**manifest, "digest": claimed}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("example")
    result = build(outside_git(EXAMPLE_REPO, tmp), out=tmp / "dist", environ=EPOCH)
    assert result.path is not None
    return result.path


def test_the_bundle_has_the_spec_layout_and_verifies(example: Path) -> None:
    assert example.name == "support-desk-1.4.0"
    manifest = verify(example)
    assert manifest["formatVersion"] == "agentflow.bundle/v1"
    assert (manifest["project"], manifest["version"]) == ("support-desk", "1.4.0")
    assert manifest["createdAt"] == "2023-11-14T22:13:20Z"
    assert manifest["source"] == {"commit": None, "tree": None, "path": "", "dirty": None}
    assert manifest["compiler"]["name"] == "agentflow"
    names = [w["name"] for w in manifest["workflows"]]
    assert names == [
        "eu-support",
        "priority-intake",
        "refund-request",
        "smart-support",
        "support-triage",
        "us-support",
    ]
    assert {t["name"] + "@" + t["version"] for t in manifest["templates"]} == {
        "support-flow@1.2.3",
        "support-flow@2.0.0",
    }
    for workflow in manifest["workflows"]:
        assert (example / workflow["plan"]).is_file()
    for profile in manifest["profiles"]:
        document = json.loads((example / profile["path"]).read_bytes())
        assert document["hash"] == profile["hash"] and document["id"] == profile["id"]


def test_every_file_validates_against_its_published_schema(example: Path) -> None:
    for path, data in files_of(example).items():
        kind = "bundle" if path == "bundle.json" else path.split("/")[0].rstrip("s")
        errors = [e.message for e in SCHEMAS[kind].iter_errors(json.loads(data))]
        assert errors == [], path


def test_a_tampered_bundle_fails_verification(example: Path, tmp_path: Path) -> None:
    copy = tmp_path / example.name
    shutil.copytree(example, copy)
    plan = copy / "plans" / "support-triage.json"
    plan.write_bytes(plan.read_bytes().replace(b"30000", b"30001"))
    with pytest.raises(AssertionError):
        verify(copy)


def test_a_repository_with_errors_writes_nothing(tmp_path: Path) -> None:
    broken = FIXTURES / "cases" / "policy-rules"
    result = build(broken, out=tmp_path / "dist", environ=EPOCH)
    assert result.path is None and result.digest is None
    assert not (tmp_path / "dist").exists()


def _entries(out: Path) -> list[str]:
    """What a build left in ``out``, its cache aside: no staging or half-written folder."""
    return sorted(p.name for p in out.iterdir() if p.name != ".af-cache")


def test_a_rebuild_replaces_the_bundle_whole(tmp_path: Path) -> None:
    source = outside_git(EXAMPLE_REPO, tmp_path)
    first = build(source, out=tmp_path / "dist", environ=EPOCH).path
    assert first is not None
    (first / "stale.json").write_text("{}")
    second = build(source, out=tmp_path / "dist", environ={"SOURCE_DATE_EPOCH": "1"}).path
    assert second == first and not (first / "stale.json").exists()
    assert json.loads((first / "bundle.json").read_bytes())["createdAt"] == "1970-01-01T00:00:01Z"
    assert _entries(tmp_path / "dist") == [first.name]


def test_a_failed_write_leaves_the_previous_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = outside_git(EXAMPLE_REPO, tmp_path)
    good = build(source, out=tmp_path / "dist", environ=EPOCH).path
    assert good is not None
    before = files_of(good)
    written = 0
    real_write = Path.write_bytes

    def failing_write(self: Path, data: bytes) -> int:  # the disk fills up half-way
        nonlocal written
        written += 1
        if written > 3:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)
    with pytest.raises(OSError):
        build(source, out=tmp_path / "dist", environ={"SOURCE_DATE_EPOCH": "5"})
    monkeypatch.undo()
    assert files_of(good) == before
    assert _entries(tmp_path / "dist") == [good.name]


def test_created_at_comes_from_the_commit_without_source_date_epoch(tmp_path: Path) -> None:
    repo = outside_git(EXAMPLE_REPO, tmp_path)
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"]
    stamp = {**os.environ, "GIT_COMMITTER_DATE": "2024-02-03T04:05:06Z"}
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True, env=stamp)
    result = build(repo, out=tmp_path / "dist", environ={})
    assert result.path is not None
    manifest = verify(result.path)
    assert manifest["createdAt"] == "2024-02-03T04:05:06Z"
    assert manifest["source"]["dirty"] is False and len(manifest["source"]["commit"]) == 40
    (repo / "agents" / "writer.yaml").write_text(
        (repo / "agents" / "writer.yaml").read_text() + "# edited\n"
    )
    dirty = build(repo, out=tmp_path / "dirty", environ={})
    assert dirty.path is not None and verify(dirty.path)["source"]["dirty"] is True
    from_rev = build(repo, out=tmp_path / "rev", rev="HEAD", environ={})
    assert from_rev.path is not None
    assert verify(from_rev.path)["source"]["dirty"] is False
    assert files_of(from_rev.path) == files_of(result.path)


def test_source_date_epoch_must_be_seconds(tmp_path: Path) -> None:
    result = run_af(
        "build", EXAMPLE_REPO, "--out", tmp_path, env={"SOURCE_DATE_EPOCH": "yesterday"}
    )
    assert result.returncode == 2
    assert "SOURCE_DATE_EPOCH" in result.stderr and "Traceback" not in result.stderr


_BUILD = """\
import os, sys
from pathlib import Path
from agentflow.compiler.build.write import build
os.umask(int(sys.argv[3], 8))
result = build(Path(sys.argv[1]), out=Path(sys.argv[2]), archive=True)
print(result.digest)
"""


def test_two_machines_build_byte_identical_bundles_and_archives(tmp_path: Path) -> None:
    """Different folders, hash seeds, time zones, umasks and locales: the same bytes."""
    outputs = []
    for n, (seed, tz, umask, lang) in enumerate(
        [("1", "UTC", "022", "C.UTF-8"), ("4242", "Asia/Kolkata", "077", "POSIX")]
    ):
        source = tmp_path / f"machine{n}" / "checkout" / f"deep{n}" / "repo"
        shutil.copytree(EXAMPLE_REPO, source)
        out = tmp_path / f"machine{n}" / "out"
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONHASHSEED": seed,
            "TZ": tz,
            "LANG": lang,
            "LC_ALL": lang,
            **EPOCH,
        }
        digest = subprocess.run(
            [sys.executable, "-c", _BUILD, str(source), str(out), umask],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        outputs.append((digest, files_of(out)))
    (digest_a, files_a), (digest_b, files_b) = outputs
    assert digest_a == digest_b
    assert files_a == files_b
    assert "support-desk-1.4.0.tar.gz" in files_a


def test_a_no_op_rebuild_reuses_the_bundle_and_says_so(tmp_path: Path) -> None:
    source = outside_git(EXAMPLE_REPO, tmp_path)
    cold = build(source, out=tmp_path / "dist", environ=EPOCH)
    assert cold.path is not None and not cold.reused
    before = files_of(cold.path)
    again = build(source, out=tmp_path / "dist", environ=EPOCH)
    assert again.reused and again.digest == cold.digest and again.keys == cold.keys
    assert files_of(cold.path) == before
    assert set(again.explanation) == {f"{n}: unchanged: sources unchanged" for n in cold.keys}


def test_a_one_file_change_rebuilds_byte_identical_to_a_cold_build(tmp_path: Path) -> None:
    source = outside_git(EXAMPLE_REPO, tmp_path)
    build(source, out=tmp_path / "warm", environ=EPOCH)
    tool = source / "tools" / "customer-lookup.yaml"
    tool.write_text(tool.read_text().replace("timeout: ", "timeout: 1", 1))
    warm = build(source, out=tmp_path / "warm", environ=EPOCH)
    cold = build(source, out=tmp_path / "cold", environ=EPOCH)
    assert warm.path is not None and cold.path is not None and not warm.reused
    assert files_of(warm.path) == files_of(cold.path)
    explained = dict(line.split(": ", 1) for line in warm.explanation)
    assert explained["priority-intake"] == "rebuilt: profiles changed"
    assert explained["smart-support"] == "unchanged: same plan-cache key"


@pytest.mark.parametrize(
    "damage",
    ["corrupt-record", "foreign-record", "edited-bundle", "deleted-bundle"],
)
def test_a_damaged_cache_or_bundle_is_ignored_and_rebuilt(damage: str, tmp_path: Path) -> None:
    source = outside_git(EXAMPLE_REPO, tmp_path)
    first = build(source, out=tmp_path / "dist", environ=EPOCH)
    assert first.path is not None
    expected = files_of(first.path)
    (record,) = (tmp_path / "dist" / ".af-cache" / "builds").glob("*.json")
    if damage == "corrupt-record":
        record.write_text("{not json")
    elif damage == "foreign-record":
        record.write_text(record.read_text().replace("build-cache/v1", "build-cache/v0"))
    elif damage == "edited-bundle":
        plan = first.path / "plans" / "support-triage.json"
        plan.write_bytes(plan.read_bytes().replace(b"escalate", b"escalatf"))
    else:
        shutil.rmtree(first.path)
    second = build(source, out=tmp_path / "dist", environ=EPOCH)
    assert not second.reused and second.path is not None
    assert files_of(second.path) == expected
