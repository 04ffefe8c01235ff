"""`af validate` as a user runs it: a real subprocess, its formats and exit codes (SPEC §2)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.compiler.diagnostics.codes import REGISTRY
from tests.conftest import EXAMPLE_REPO, FIXTURES, ROOT, run_af
from tests.repos import AGENT, PROJECT, write_repo

BROKEN = FIXTURES / "independent" / "broken"
REQUIRED_KEYS = {"code", "severity", "file", "line", "column", "message"}
OPTIONAL_KEYS = {"hint", "origin"}


@pytest.fixture
def warning_only_repo(tmp_path: Path) -> Path:
    """A valid repository whose one problem is a warning: an unquoted `off`."""
    project = PROJECT.replace('residency: "off"', "residency: off")
    return write_repo(tmp_path, {"agents/writer.yaml": AGENT}, project=project)


def test_example_repository_validates_with_exit_0() -> None:
    result = run_af("validate", EXAMPLE_REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ")
    assert "no problems" in result.stdout
    assert result.stderr == ""


def test_path_defaults_to_the_current_directory() -> None:
    result = run_af("validate", cwd=EXAMPLE_REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_broken_repository_exits_1_with_text_diagnostics() -> None:
    result = run_af("validate", BROKEN)
    assert result.returncode == 1
    assert "tools/po-match.yaml:15:3: error[AF202] unknown field 'retires'" in result.stdout
    assert re.search(r"^\d+ errors, 0 warnings in \d+ files$", result.stdout, re.MULTILINE)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--no-such-flag", str(EXAMPLE_REPO)),
        ("validate", "/no/such/repository"),
        ("validate", str(EXAMPLE_REPO), "--format", "xml"),
        ("validate", str(EXAMPLE_REPO / "af.yaml")),
        ("frobnicate",),
        (),
    ],
    ids=["bad-flag", "missing-path", "unknown-format", "path-is-a-file", "bad-command", "nothing"],
)
def test_usage_problems_exit_2_with_one_clear_line(args: tuple[str, ...]) -> None:
    result = run_af(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "af: error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_path_names_the_path() -> None:
    result = run_af("validate", "/no/such/repository")
    assert "af: error: /no/such/repository: not a directory" in result.stderr


def test_warnings_alone_exit_0_and_strict_makes_them_exit_1(warning_only_repo: Path) -> None:
    relaxed = run_af("validate", warning_only_repo, "--format", "json")
    assert relaxed.returncode == 0
    assert [(d["code"], d["severity"]) for d in relaxed.json()["diagnostics"]] == [
        ("AF104", "warning")
    ]
    strict = run_af("validate", warning_only_repo, "--format", "json", "--strict")
    assert strict.returncode == 1
    assert [(d["code"], d["severity"]) for d in strict.json()["diagnostics"]] == [
        ("AF104", "error")
    ]
    assert strict.json()["summary"] == {"errors": 1, "warnings": 0, "files": 2}


def test_json_output_has_exactly_the_spec_shape() -> None:
    result = run_af("validate", BROKEN, "--format", "json")
    assert result.returncode == 1
    payload = result.json()
    assert set(payload) == {"diagnostics", "summary"}
    assert set(payload["summary"]) == {"errors", "warnings", "files"}
    diagnostics = payload["diagnostics"]
    assert diagnostics
    for d in diagnostics:
        assert REQUIRED_KEYS <= set(d) <= REQUIRED_KEYS | OPTIONAL_KEYS, d
        assert d["code"] in REGISTRY
        assert d["severity"] in ("error", "warning")
        assert isinstance(d["file"], str) and not d["file"].startswith("/")
        assert isinstance(d["line"], int) and d["line"] >= 1
        assert isinstance(d["column"], int) and d["column"] >= 1
        assert isinstance(d["message"], str) and d["message"]
        assert "hint" not in d or (isinstance(d["hint"], str) and d["hint"])
    summary = payload["summary"]
    assert summary["errors"] == sum(d["severity"] == "error" for d in diagnostics)
    assert summary["warnings"] == sum(d["severity"] == "warning" for d in diagnostics)
    assert summary["files"] == len(list(BROKEN.rglob("*.yaml")))
    retires = next(d for d in diagnostics if d["file"] == "tools/po-match.yaml")
    assert (retires["code"], retires["line"], retires["column"]) == ("AF202", 15, 3)


def test_json_on_a_clean_repository_is_empty() -> None:
    result = run_af("validate", EXAMPLE_REPO, "--format", "json")
    assert result.returncode == 0
    payload = result.json()
    assert payload["diagnostics"] == []
    assert payload["summary"]["errors"] == payload["summary"]["warnings"] == 0


def test_output_is_sorted_by_place_and_never_repeats(tmp_path: Path) -> None:
    tool = (
        "apiVersion: agentflow.dev/v1\nkind: Tool\nmetadata: {name: kb-search}\n"
        "spec: {version: 1.0.0, type: http, endpoint: https://kb.example.com}\n"
    )
    agent = AGENT + "  tools: [kb-serch, kb-serch, kb-search]\n  role: nobody\n"
    files = {
        "tools/c.yaml": tool,
        "tools/a.yaml": tool,
        "tools/b.yaml": tool,
        "agents/writer.yaml": agent,
        "agents/zz-writer.yaml": agent,
        "agents/typo.yaml": AGENT.replace("writer", "typo") + "  concurrancy: 2\n",
    }
    result = run_af("validate", write_repo(tmp_path, files), "--format", "json")
    diagnostics = result.json()["diagnostics"]
    places = [(d["file"], d["line"], d["column"], d["code"]) for d in diagnostics]
    assert places == sorted(places)
    everything = [tuple(sorted(d.items())) for d in diagnostics]
    assert len(everything) == len(set(everything))
    # One AF306 per later definition and one AF302 per unknown name, each at its own place.
    assert [p for p in places if p[3] == "AF306"] == [
        ("agents/zz-writer.yaml", 3, 18, "AF306"),
        ("tools/b.yaml", 3, 18, "AF306"),
        ("tools/c.yaml", 3, 18, "AF306"),
    ]
    assert [p[0] for p in places if p[3] == "AF302"] == ["agents/writer.yaml"] * 2 + [
        "agents/zz-writer.yaml"
    ] * 2


def test_github_format_prints_one_annotation_per_diagnostic() -> None:
    result = run_af("validate", BROKEN, "--format", "github")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    annotation = re.compile(
        r"::(?P<level>error|warning) file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+),"
        r"title=(?P<code>AF\d{3})[^:]*::\[(?P=code)\] .+"
    )
    matches = [annotation.fullmatch(line) for line in lines[:-1]]
    assert all(matches), [line for line, m in zip(lines, matches, strict=False) if not m]
    assert re.fullmatch(r"\d+ errors?, \d+ warnings?", lines[-1])
    expected = run_af("validate", BROKEN, "--format", "json").json()["diagnostics"]
    assert [
        (m["file"], int(m["line"]), int(m["col"]), m["code"]) for m in matches if m is not None
    ] == [(d["file"], d["line"], d["column"], d["code"]) for d in expected]


def test_sarif_format_is_a_valid_sarif_2_1_0_log() -> None:
    result = run_af("validate", BROKEN, "--format", "sarif")
    assert result.returncode == 1
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] and driver["version"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == sorted(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] == REGISTRY[rule["id"]].title
    results = run["results"]
    assert results
    for item in results:
        assert item["ruleId"] in rule_ids
        assert rule_ids[item["ruleIndex"]] == item["ruleId"]
        assert item["level"] in ("error", "warning", "note", "none")
        assert item["message"]["text"]
        (location,) = item["locations"]
        physical = location["physicalLocation"]
        assert not physical["artifactLocation"]["uri"].startswith("/")
        assert physical["region"]["startLine"] >= 1
        assert physical["region"]["startColumn"] >= 1
    assert {item["ruleId"] for item in results} == set(rule_ids)
    expected = run_af("validate", BROKEN, "--format", "json").json()["diagnostics"]
    assert len(results) == len(expected)


def test_env_flag_with_an_unknown_environment_reports_af311() -> None:
    result = run_af("validate", EXAMPLE_REPO, "--env", "nope", "--format", "json")
    assert result.returncode == 1
    (diagnostic,) = result.json()["diagnostics"]
    assert (diagnostic["code"], diagnostic["file"]) == ("AF311", "af.yaml")
    assert "nope" in diagnostic["message"]


def test_env_flag_with_a_known_environment_validates() -> None:
    assert run_af("validate", EXAMPLE_REPO, "--env", "prod").returncode == 0


def test_validate_never_imports_the_runtime_or_service_libraries() -> None:
    probe = (
        "import contextlib, io, json, sys\n"
        "from agentflow.compiler.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['validate', 'examples/repo'])\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout)
    assert outcome["code"] == 0
    forbidden = ("agentflow.runtime", "fastapi", "sqlalchemy", "nats", "kubernetes")
    loaded = [
        m
        for m in outcome["modules"]
        if m.split(".")[0] in forbidden or m.startswith("agentflow.runtime")
    ]
    assert loaded == []
    assert "agentflow.compiler.pipeline" in outcome["modules"]


def test_version_flag_prints_the_version() -> None:
    result = run_af("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"af \d+\.\d+\.\d+\S*\n", result.stdout)


def test_env_flag_checks_that_environments_constraints() -> None:
    case = FIXTURES / "cases" / "profiles-env"
    result = run_af("validate", case, "--env", "prod", "--format", "json")
    assert result.returncode == 1
    codes = sorted({d["code"] for d in result.json()["diagnostics"]})
    assert codes == ["AF607", "AF609", "AF610", "AF611"]
    without = run_af("validate", case, "--format", "json").json()["diagnostics"]
    assert sorted({d["code"] for d in without}) == ["AF609"]  # the rest needs --env


def test_build_prints_the_digest_and_path_and_writes_the_bundle(tmp_path: Path) -> None:
    result = run_af(
        "build",
        EXAMPLE_REPO,
        "--out",
        tmp_path / "dist",
        "--archive",
        env={"SOURCE_DATE_EPOCH": "1700000000"},
    )
    assert result.returncode == 0, result.stderr
    digest, path = result.stdout.splitlines()[0].split(" ", 1)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert Path(path) == tmp_path / "dist" / "support-desk-1.4.0"
    manifest = json.loads((Path(path) / "bundle.json").read_text())
    assert manifest["digest"] == digest
    assert (
        result.stdout.splitlines()[1] == f"archive: {tmp_path / 'dist'}/support-desk-1.4.0.tar.gz"
    )
    as_json = run_af(
        "build",
        EXAMPLE_REPO,
        "--out",
        tmp_path / "dist",
        "--format",
        "json",
        env={"SOURCE_DATE_EPOCH": "1700000000"},
    ).json()
    assert as_json["digest"] == digest and as_json["archive"] is None
    assert set(as_json["workflows"]) == {w["name"] for w in manifest["workflows"]}


def test_build_of_a_broken_repository_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    result = run_af("build", BROKEN, "--out", tmp_path / "dist")
    assert result.returncode == 1
    assert re.search(r"^\S+:\d+:\d+: error\[AF\d{3}\]", result.stdout, re.MULTILINE)
    assert not (tmp_path / "dist").exists()


def test_build_into_a_file_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "dist"
    blocker.write_text("not a folder")
    result = run_af("build", EXAMPLE_REPO, "--out", blocker)
    assert result.returncode == 2
    assert result.stderr.startswith("af: error:") and "Traceback" not in result.stderr


def test_a_closed_pipe_ends_af_quietly(tmp_path: Path) -> None:
    """`af validate … | head -1`: no 'internal error' once the reader has gone."""
    agents = {
        f"agents/a{i}.yaml": AGENT.replace("writer", f"a{i}").replace("llm", "robot")
        for i in range(1500)
    }
    repo = write_repo(tmp_path, agents)
    process = subprocess.Popen(
        [sys.executable, "-m", "agentflow.compiler", "validate", str(repo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()  # the reader goes away with most of the output unread
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == 2
    assert "internal error" not in stderr and "Traceback" not in stderr
