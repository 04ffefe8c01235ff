"""`af graph`: pictures of compiled plans, and what it says when it cannot draw one.

tests/test_goldens.py compares the pictures byte for byte with tests/golden/graph-*; here they must
be well-formed Mermaid and dot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_REPO, FIXTURES, run_af
from tests.golden import GOLDEN
from tests.repos import write_repo

CASES = sorted(p.name for p in GOLDEN.glob("graph-*") if p.is_dir())


def test_the_cases_are_there() -> None:
    assert {"graph-example", "graph-escaping"} <= set(CASES)


# Every line af graph writes in Mermaid: a label is one quoted string without a raw quote.
_LABEL = r'"[^"]*"'
_MERMAID_LINE = re.compile(
    r"flowchart TD"
    r"|  %% [a-z0-9-]+"
    rf"|  n\d+(\(\({_LABEL}\)\)|\[{_LABEL}\]|\(\[{_LABEL}\]\)|\{{\{{{_LABEL}\}}\}}"
    rf"|\{{{_LABEL}\}}|\[\[{_LABEL}\]\])"
    rf"|  n\d+ (-->|-\.->)(\|{_LABEL}\|)? n\d+"
    r"|  classDef final stroke-width:3px"
    r"|  class n\d+(,n\d+)* final"
)


@pytest.mark.parametrize("case", CASES)
def test_mermaid_lines_are_well_formed(case: str) -> None:
    for path in sorted((GOLDEN / case / "expected").glob("*.mmd")):
        for line in path.read_text().splitlines():
            assert _MERMAID_LINE.fullmatch(line), f"{path.name}: {line!r}"
            labels = re.findall(_LABEL, line)
            for label in labels:  # only the <br> we write, no raw syntax characters
                assert not set(label.replace("<br>", "")) & set("<>|`"), line


@pytest.mark.parametrize("case", CASES)
def test_dot_output_renders(case: str) -> None:
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("graphviz (dot) must be installed in CI: .ci/run installs it")
        pytest.skip("graphviz (dot) is not installed")
    for path in sorted((GOLDEN / case / "expected").glob("*.dot")):
        result = subprocess.run(
            ["dot", "-Tsvg"], input=path.read_bytes(), capture_output=True, check=False
        )
        assert result.returncode == 0, (path.name, result.stderr)
        assert b"<svg" in result.stdout


def test_an_unknown_workflow_exits_1_with_did_you_mean() -> None:
    result = run_af("graph", "suport-triage", EXAMPLE_REPO)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error[AF304] workflow 'suport-triage' is not defined in {EXAMPLE_REPO}\n"
        "  hint: did you mean 'support-triage'?\n"
    )


def test_a_repository_with_errors_shows_its_diagnostics_and_draws_nothing() -> None:
    broken = FIXTURES / "independent" / "broken"
    result = run_af("graph", "anything", broken)
    assert result.returncode == 1
    assert result.stdout == ""
    assert re.search(r"^workflows/\S+:\d+:\d+: error\[AF4\d\d\] ", result.stderr, re.MULTILINE)
    assert re.search(r"^\d+ errors, 0 warnings in \d+ files$", result.stderr, re.MULTILINE)


def test_an_integer_json_cannot_carry_is_a_diagnostic(tmp_path: Path) -> None:
    flow = (GOLDEN / "graph-escaping" / "repo" / "workflows" / "planner.yaml").read_text()
    write_repo(
        tmp_path,
        {
            "agents/writer.yaml": (GOLDEN / "graph-escaping/repo/agents/writer.yaml").read_text(),
            "workflows/planner.yaml": flow + "    outputSchema: {maximum: 99999999999999999999}\n",
        },
    )
    result = run_af("graph", "planner", tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert "workflows/planner.yaml:11:19: error[AF802]" in result.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert run_af("graph", "x", EXAMPLE_REPO, "--format", "png").returncode == 2
    assert run_af("graph").returncode == 2
    missing = run_af("graph", "x", tmp_path / "missing")
    assert (missing.returncode, missing.stderr) == (
        2,
        f"af: error: {tmp_path / 'missing'}: not a directory\n",
    )
