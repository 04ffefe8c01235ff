"""The independent fixture: written from SPEC.md alone, it checks us against the contract.

tests/fixtures/independent/broken/ marks each planted error with its family (`# expect: AF3xx`);
every marker must be met at its file and line, and nothing may be reported anywhere else.
clean/ and examples/repo must validate without a single diagnostic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source import read_folder
from tests.conftest import EXAMPLE_REPO, FIXTURES
from tests.expectations import collect_expectations, compare

INDEPENDENT = FIXTURES / "independent"


def diagnostics_for(repo: Path) -> list[dict[str, object]]:
    report = validate_snapshot(read_folder(repo)).report
    return [
        {"file": d.file, "line": d.line, "column": d.column, "code": d.code, "message": d.message}
        for d in report.diagnostics()
    ]


def test_broken_reports_every_marker_and_nothing_else() -> None:
    repo = INDEPENDENT / "broken"
    expected = collect_expectations(repo)
    assert len(expected) >= 20, "the broken fixture lost its markers"
    problems = compare(expected, diagnostics_for(repo))
    assert not problems, "\n".join(problems)


def test_broken_markers_name_families_from_the_contract() -> None:
    families = {item.code for item in collect_expectations(INDEPENDENT / "broken")}
    assert families <= {f"AF{n}xx" for n in range(1, 9)}
    assert {"AF1xx", "AF2xx", "AF3xx", "AF8xx"} <= families


@pytest.mark.parametrize(
    "repo", [INDEPENDENT / "clean", EXAMPLE_REPO], ids=["independent-clean", "examples-repo"]
)
def test_valid_repository_has_no_diagnostics(repo: Path) -> None:
    assert diagnostics_for(repo) == []
