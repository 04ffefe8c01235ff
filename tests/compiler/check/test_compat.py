"""Compatibility (AF213, AF8xx): the Project and its templates must admit this compiler.

Ranges use npm semantics through node-semver. tests/fixtures/cases/compat-* pin positions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.compiler import __version__
from agentflow.compiler.check.compat import check_compatibility
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.model.versions import admits, parse_range
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.repos import PROJECT, check, found, only, write_repo

TEMPLATE = """\
apiVersion: agentflow.dev/v1
kind: Template
metadata: {name: support-flow}
spec:
  version: 1.0.0
  compatibility: {afVersion: "RANGE"}
  assets: ["*.yaml.j2"]
"""


@pytest.mark.parametrize(
    "text",
    [">=0.1 <1.0", "^0.1", "~0.1.0", "0.x", "*", "0.1.0", ">=0.1", "0.1 - 0.9", "^1 || ^0.1"],
)
def test_npm_ranges_parse(text: str) -> None:
    assert parse_range(text) is not None


@pytest.mark.parametrize("text", ["banana", ">=0.1 <<1.0", "from 0.1 to 1.0", "^^1", "1.2.3.4"])
def test_malformed_ranges_do_not_parse(text: str) -> None:
    assert parse_range(text) is None


@pytest.mark.parametrize(
    ("text", "version", "admitted"),
    [
        (">=0.1 <1.0", "0.1.0", True),
        (">=0.1 <1.0", "0.99.3", True),
        (">=0.1 <1.0", "1.0.0", False),
        ("^0.1", "0.1.7", True),
        ("^0.1", "0.2.0", False),
        ("0.x", "0.9.0", True),
        (">=5.0", "0.1.0", False),
    ],
)
def test_ranges_admit_versions_as_npm_does(text: str, version: str, admitted: bool) -> None:
    assert admits(text, version) is admitted


def test_example_project_admits_this_compiler() -> None:
    assert admits(">=0.1 <1.0", __version__)


def test_project_range_that_excludes_the_compiler_is_reported(tmp_path: Path) -> None:
    project = PROJECT.replace(">=0.1 <1.0", ">=2.0")
    diagnostic = only(check(tmp_path, {}, project=project))
    assert found([diagnostic]) == [("AF801", "af.yaml", 6, 14)]
    assert diagnostic.message == f"afVersion '>=2.0' does not admit this compiler ({__version__})"
    assert diagnostic.hint == "widen the range, or use a compiler version it admits"


def test_malformed_project_range_is_reported_as_such(tmp_path: Path) -> None:
    project = PROJECT.replace(">=0.1 <1.0", "0.1 or later")
    diagnostic = only(check(tmp_path, {}, project=project))
    assert found([diagnostic]) == [("AF213", "af.yaml", 6, 14)]
    assert diagnostic.hint == "write an npm-style range such as '>=0.1 <1.0' or '^0.1'"


def test_template_compatibility_is_checked_too(tmp_path: Path) -> None:
    files = {
        "templates/support-flow/1.0.0/template.yaml": TEMPLATE.replace("RANGE", "^3"),
        "templates/support-flow/2.0.0/template.yaml": TEMPLATE.replace("1.0.0", "2.0.0").replace(
            "RANGE", "3 <"
        ),
    }
    assert found(check(tmp_path, files)) == [
        ("AF801", "templates/support-flow/1.0.0/template.yaml", 6, 30),
        ("AF213", "templates/support-flow/2.0.0/template.yaml", 6, 30),
    ]


def test_next_major_compiler_is_refused_by_the_example_range(tmp_path: Path) -> None:
    write_repo(tmp_path, {})
    validation = validate_snapshot(read_folder(tmp_path))
    assert validation.report.diagnostics() == []
    report = Report()
    check_compatibility(validation.index, report, compiler_version="1.0.0")
    assert found(report.diagnostics()) == [("AF801", "af.yaml", 6, 14)]
    report = Report()
    check_compatibility(validation.index, report, compiler_version="0.9.9")
    assert report.diagnostics() == []
