"""The runtime's verbs through the real `af` (a subprocess): af hands them to the runtime,
which runs on its embedded store; exit codes and one-line errors as for every af command."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_REPO, run_af


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = run_af("build", EXAMPLE_REPO, "--out", out, "--archive", env={"SOURCE_DATE_EPOCH": "1"})
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("*.tar.gz")
    return found


def test_a_run_prints_each_step_and_its_end_and_is_audited(archive: Path, tmp_path: Path) -> None:
    env = {"AF_DATA_DIR": str(tmp_path / "data")}
    ran = run_af(
        "run",
        "support-triage",
        EXAMPLE_REPO,
        "--bundle",
        archive,
        "--input",
        '{"ticket": "hi"}',
        env=env,
    )
    # no model or tool is reachable here, and no scenario answers: the run fails, step by step
    assert ran.returncode == 1, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("classify  classifier  failed: ")
    assert lines[0].endswith("→ escalate")
    assert lines[-1].startswith("run ") and ": failed: " in lines[-1]
    assert "Traceback" not in ran.stderr
    listed = run_af("runs", "list", "--path", EXAMPLE_REPO, env=env)
    assert listed.returncode == 0 and "support-triage  failed" in listed.stdout
    verified = run_af("audit", "verify", "--path", EXAMPLE_REPO, env=env)
    assert verified.returncode == 0 and verified.stdout.startswith("ok: "), verified.stderr
    with sqlite3.connect(tmp_path / "data" / "runtime.db") as db:
        db.execute("UPDATE audit SET kind = 'forged' WHERE seq = 2 AND chain != 'global'")
    tampered = run_af("audit", "verify", "--path", EXAMPLE_REPO, env=env)
    assert tampered.returncode == 1
    assert "#2: its content does not match its hash (edited)" in tampered.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--input", "{not json"), 2, "af: error: the input is not JSON"),
        (("--input-file", "/nonexistent/input.json"), 2, "af: error: --input-file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    archive: Path, tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    env = {"AF_DATA_DIR": str(tmp_path / "data")}
    ran = run_af("run", "support-triage", EXAMPLE_REPO, "--bundle", archive, *args, env=env)
    assert ran.returncode == code
    assert ran.stderr.strip().splitlines()[-1].startswith(message)


def test_an_unknown_workflow_names_the_ones_there_are(archive: Path, tmp_path: Path) -> None:
    env = {"AF_DATA_DIR": str(tmp_path / "data")}
    ran = run_af("run", "nope", EXAMPLE_REPO, "--bundle", archive, env=env)
    assert ran.returncode == 1
    assert "no workflow 'nope'" in ran.stderr and "support-triage" in ran.stderr


def test_a_repository_that_does_not_compile_shows_the_compilers_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "af.yaml").write_text("kind: Project\n")
    ran = run_af("run", "x", tmp_path, env={"AF_DATA_DIR": str(tmp_path / "data")})
    assert ran.returncode == 1
    assert "af.yaml:" in ran.stderr and "error[" in ran.stderr


def test_the_production_runtime_says_it_is_not_built_yet() -> None:
    ran = run_af("runtime", "serve")
    assert ran.returncode == 2
    assert "not built yet" in ran.stderr


def test_af_test_runs_every_scenario_of_the_example(tmp_path: Path) -> None:
    env = {"AF_DATA_DIR": str(tmp_path / "data")}
    ran = run_af("test", EXAMPLE_REPO, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[-1] == "11 passed, 0 failed"
    assert "ok    refund-waiting (refund-request) waiting" in lines
    junit = run_af("test", EXAMPLE_REPO, "--format", "junit", env=env)
    import xml.etree.ElementTree as ElementTree

    suite = ElementTree.fromstring(junit.stdout)
    assert suite.get("tests") == "11" and suite.get("failures") == "0"


def test_a_scenario_that_fails_says_what_was_expected_and_what_happened(tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE_REPO, repo, ignore=shutil.ignore_patterns(".af"))
    scenario = repo / "scenarios" / "password-reset.yaml"
    scenario.write_text(scenario.read_text().replace("status: succeeded", "status: failed"))
    ran = run_af(
        "test", repo, "--scenario", "password-reset", env={"AF_DATA_DIR": str(tmp_path / "d")}
    )
    assert ran.returncode == 1
    assert "FAIL  password-reset (support-triage) at scenarios/password-reset.yaml:" in ran.stdout
    assert "      expected: failed [classify, knowledge_search, knowledge_search" in ran.stdout
    assert "      actual:   succeeded [classify, knowledge_search, knowledge_search" in ran.stdout


def test_a_run_with_a_scenario_as_json(tmp_path: Path) -> None:
    env = {"AF_DATA_DIR": str(tmp_path / "data")}
    ran = run_af(
        "run",
        "support-triage",
        EXAMPLE_REPO,
        "--scenario",
        "password-reset",
        "--format",
        "json",
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    run = ran.json()["run"]
    assert run["status"] == "succeeded" and run["workflow"] == "support-triage"
    assert [s["state"] for s in run["steps"]][:3] == [
        "classify",
        "knowledge_search",
        "knowledge_search",
    ]
    assert [s["attempt"] for s in run["steps"]][1:3] == [1, 2]
    assert run["steps"][1]["error"] == "timeout"
    assert run["steps"][0]["startedAt"].endswith("Z")
    unknown = run_af("run", "support-triage", EXAMPLE_REPO, "--scenario", "nope", env=env)
    assert unknown.returncode == 2 and "no scenario 'nope'" in unknown.stderr
