"""`af build --scenarios FILE`: the checked scenarios beside the bundle, never inside it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import rfc8785

from agentflow.bundle.scenario import SCENARIOS_FORMAT, scenarios_from_json
from agentflow.compiler.build.write import build
from tests.conftest import EXAMPLE_REPO, run_af

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def _copy(tmp_path: Path, name: str = "repo") -> Path:
    """The example outside any git repository, so that no tree hash reaches the bundle."""
    copy = tmp_path / "src" / name
    shutil.copytree(EXAMPLE_REPO, copy)
    return copy


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_the_flag_writes_the_checked_scenarios_for_the_bundle(tmp_path: Path) -> None:
    repo, out = _copy(tmp_path), tmp_path / "dist"
    target = tmp_path / "for-af-test" / "scenarios.json"
    result = run_af("build", repo, "--out", out, "--scenarios", target, env=EPOCH)
    assert result.returncode == 0, result.stderr
    digest, path = result.stdout.splitlines()[0].split()
    assert result.stdout.splitlines()[1] == f"scenarios: {target}"
    data = target.read_bytes()
    document = json.loads(data)
    assert rfc8785.dumps(document) == data  # canonical JSON
    assert document["formatVersion"] == SCENARIOS_FORMAT
    bundle, scenarios = scenarios_from_json(document)
    assert bundle == digest == json.loads((Path(path) / "bundle.json").read_text())["digest"]
    assert [s.name for s in scenarios] == sorted(s.name for s in scenarios)
    assert len(scenarios) == len(list((repo / "scenarios").glob("*.yaml")))
    assert [p.name for p in target.parent.iterdir()] == ["scenarios.json"]  # no temporary left
    assert not any("scenario" in name for name in _files(Path(path)))


def test_adding_a_scenario_changes_no_byte_of_the_bundle(tmp_path: Path) -> None:
    without = _copy(tmp_path, "without")
    shutil.rmtree(without / "scenarios")
    with_ = _copy(tmp_path, "with")
    bundles = []
    for repo in (without, with_):
        result = build(repo, out=tmp_path / f"dist-{repo.name}", environ=EPOCH)
        assert result.path is not None
        bundles.append(_files(result.path))
    assert bundles[0] == bundles[1]


def test_a_scenario_with_errors_fails_the_build_and_writes_nothing(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    scenario = repo / "scenarios" / "refund-denied.yaml"
    scenario.write_text(scenario.read_text().replace("send_denied]", "send_refunded]"))
    target = tmp_path / "scenarios.json"
    result = run_af("build", repo, "--out", tmp_path / "dist", "--scenarios", target, env=EPOCH)
    assert result.returncode == 1
    assert "scenarios/refund-denied.yaml:" in result.stdout and "AF910" in result.stdout
    assert not target.exists() and not (tmp_path / "dist").exists()


def test_the_flag_compiles_even_when_the_cache_would_reuse_the_bundle(tmp_path: Path) -> None:
    repo, out = _copy(tmp_path), tmp_path / "dist"
    first = build(repo, out=out, environ=EPOCH)
    target = tmp_path / "scenarios.json"
    second = build(repo, out=out, environ=EPOCH, scenarios=target)
    assert (first.digest, first.reused, second.digest, second.reused) == (
        second.digest,
        False,
        first.digest,
        False,
    )
    assert scenarios_from_json(json.loads(target.read_bytes()))[0] == first.digest
    assert build(repo, out=out, environ=EPOCH).reused  # and the cache still serves plain builds
