"""The independent fixtures: written from SPEC.md alone, they check us against the contract.

Each was written by a separate session that read SPEC.md and none of our code:
tests/fixtures/independent/ (loading, schema, references, graphs),
tests/fixtures/independent-safety/ (CEL, permissions, limits and policy rules) and
tests/fixtures/independent-templates/ (template registry, parameters, sandboxed rendering, and
positions in rendered assets). Each broken/
marks its planted errors with their family (`# expect: AF5xx`); every marker must be met at its
file and line, and nothing may be reported anywhere else. Each clean/ and examples/repo must
validate without a single diagnostic, in every environment they define.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO, FIXTURES
from tests.expectations import collect_expectations, compare

INDEPENDENT = FIXTURES / "independent"
SAFETY = FIXTURES / "independent-safety"
TEMPLATES = FIXTURES / "independent-templates"


def diagnostics_for(repo: Path, environment: str | None = None) -> list[dict[str, object]]:
    report = validate_snapshot(read_folder(repo), environment=environment).report
    return [
        {"file": d.file, "line": d.line, "column": d.column, "code": d.code, "message": d.message}
        for d in report.diagnostics()
    ]


@pytest.mark.parametrize(
    ("fixture", "planted", "families"),
    [
        (INDEPENDENT, 20, {"AF1xx", "AF2xx", "AF3xx", "AF4xx", "AF8xx"}),
        (SAFETY, 15, {"AF5xx", "AF6xx"}),
        (TEMPLATES, 13, {"AF4xx", "AF7xx"}),
    ],
    ids=["independent", "independent-safety", "independent-templates"],
)
def test_broken_reports_every_marker_and_nothing_else(
    fixture: Path, planted: int, families: set[str]
) -> None:
    repo = fixture / "broken"
    expected = collect_expectations(repo)
    assert len(expected) >= planted, "the broken fixture lost its markers"
    assert {item.code for item in expected} == families
    problems = compare(expected, diagnostics_for(repo))
    assert not problems, "\n".join(problems)


VALID = [INDEPENDENT / "clean", SAFETY / "clean", TEMPLATES / "clean", EXAMPLE_REPO]


@pytest.mark.parametrize(
    "repo", VALID, ids=["independent", "independent-safety", "independent-templates", "examples"]
)
def test_valid_repository_has_no_diagnostics_in_any_environment(repo: Path) -> None:
    assert diagnostics_for(repo) == []
    environments = yaml.safe_load((repo / "af.yaml").read_text())["spec"].get("environments", {})
    for environment in environments:
        assert diagnostics_for(repo, environment) == [], environment
