"""Renderers: the same diagnostics as text, JSON, GitHub annotations and SARIF (SPEC §2)."""

from __future__ import annotations

import json
import re

from agentflow.compiler.diagnostics.codes import REGISTRY
from agentflow.compiler.diagnostics.formats import (
    RENDERERS,
    Summary,
    render_github,
    render_json,
    render_sarif,
    render_text,
)
from agentflow.compiler.diagnostics.positions import Span
from agentflow.compiler.diagnostics.report import Diagnostic, Report
from tests.conftest import FIXTURES
from tests.expectations import collect_expectations

UNKNOWN_STATE = Diagnostic(
    code="AF401",
    severity="error",
    file="workflows/triage.yaml",
    line=12,
    column=7,
    message="state 'classify' goes to 'serch', which is not defined",
    hint="did you mean 'search'?",
)
YAML11 = Diagnostic(
    code="AF104",
    severity="warning",
    file="af.yaml",
    line=8,
    column=40,
    message="unquoted 'off' is the string 'off' here, but a boolean to YAML 1.1 tools",
    hint='quote it: "off"',
)
NO_HINT = Diagnostic(
    code="AF302",
    severity="error",
    file="agents/a,b: c.yaml",
    line=3,
    column=9,
    message="tool 'x' is not defined\n100% sure",
)
SUMMARY = Summary(errors=2, warnings=1, files=9)


def test_every_format_has_a_renderer() -> None:
    assert set(RENDERERS) == {"text", "json", "github", "sarif"}


def test_text_is_path_line_column_severity_code_message_then_hint() -> None:
    text = render_text([YAML11, UNKNOWN_STATE], SUMMARY)
    assert text.splitlines() == [
        "af.yaml:8:40: warning[AF104] unquoted 'off' is the string 'off' here, but a boolean "
        "to YAML 1.1 tools",
        '  hint: quote it: "off"',
        "workflows/triage.yaml:12:7: error[AF401] state 'classify' goes to 'serch', which is "
        "not defined",
        "  hint: did you mean 'search'?",
        "2 errors, 1 warning in 9 files",
    ]


def test_text_without_problems_says_so() -> None:
    assert render_text([], Summary(errors=0, warnings=0, files=1)) == (
        "ok: 1 file checked, no problems"
    )


def test_json_is_the_spec_shape_with_hint_only_where_there_is_one() -> None:
    payload = json.loads(render_json([UNKNOWN_STATE, NO_HINT], SUMMARY))
    assert payload == {
        "diagnostics": [
            {
                "code": "AF401",
                "severity": "error",
                "file": "workflows/triage.yaml",
                "line": 12,
                "column": 7,
                "message": "state 'classify' goes to 'serch', which is not defined",
                "hint": "did you mean 'search'?",
            },
            {
                "code": "AF302",
                "severity": "error",
                "file": "agents/a,b: c.yaml",
                "line": 3,
                "column": 9,
                "message": "tool 'x' is not defined\n100% sure",
            },
        ],
        "summary": {"errors": 2, "warnings": 1, "files": 9},
    }


def test_github_annotations_escape_data_and_properties() -> None:
    lines = render_github([UNKNOWN_STATE, NO_HINT, YAML11], SUMMARY).splitlines()
    assert lines[0] == (
        "::error file=workflows/triage.yaml,line=12,col=7,title=AF401 unknown state::"
        "[AF401] state 'classify' goes to 'serch', which is not defined%0A"
        "hint: did you mean 'search'?"
    )
    # Commas and colons in a property, and newlines and percent signs anywhere, are escaped.
    assert lines[1] == (
        "::error file=agents/a%2Cb%3A c.yaml,line=3,col=9,title=AF302 unknown tool::"
        "[AF302] tool 'x' is not defined%0A100%25 sure"
    )
    assert lines[2].startswith("::warning file=af.yaml,line=8,col=40,")
    assert lines[3] == "2 errors, 1 warning"
    pattern = re.compile(r"::(error|warning) file=[^,]+,line=\d+,col=\d+,title=[^:]+::\S.*")
    assert all(pattern.fullmatch(line) for line in lines[:3])


def test_sarif_is_2_1_0_with_one_rule_per_code_used() -> None:
    log = json.loads(render_sarif([UNKNOWN_STATE, YAML11, NO_HINT], SUMMARY))
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "agentflow"
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == ["AF104", "AF302", "AF401"]
    assert rules[0]["shortDescription"] == {"text": REGISTRY["AF104"].title}
    assert rules[0]["defaultConfiguration"] == {"level": "warning"}
    first = run["results"][0]
    assert first["ruleId"] == "AF401"
    assert rules[first["ruleIndex"]]["id"] == "AF401"
    assert first["level"] == "error"
    assert first["message"]["text"].endswith("\nhint: did you mean 'search'?")
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "workflows/triage.yaml"
    assert location["region"] == {"startLine": 12, "startColumn": 7}


def test_sarif_without_problems_is_a_run_with_no_results() -> None:
    log = json.loads(render_sarif([], Summary(errors=0, warnings=0, files=3)))
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_every_code_has_a_title_and_a_severity_sarif_can_use() -> None:
    for code in REGISTRY.values():
        assert re.fullmatch(r"AF[1-9][0-9]{2}", code.id)
        assert code.title and code.title == code.title.strip()
        assert code.severity in ("error", "warning")


def test_report_sorts_by_place_and_drops_exact_repeats() -> None:
    report = Report()
    codes = REGISTRY
    report.add(codes["AF302"], "b.yaml", Span(2, 1), "tool 'x' is not defined")
    report.add(codes["AF301"], "a.yaml", Span(9, 3), "agent 'y' is not defined")
    report.add(codes["AF302"], "b.yaml", Span(2, 1), "tool 'x' is not defined")
    report.add(codes["AF104"], "a.yaml", Span(9, 3), "unquoted 'no'")
    report.add(codes["AF202"], "a.yaml", Span(1, 20), "unknown field 'x'")
    assert [(d.file, d.line, d.column, d.code) for d in report.diagnostics()] == [
        ("a.yaml", 1, 20, "AF202"),
        ("a.yaml", 9, 3, "AF104"),
        ("a.yaml", 9, 3, "AF301"),
        ("b.yaml", 2, 1, "AF302"),
    ]


def test_strict_turns_warnings_into_errors() -> None:
    report = Report()
    report.add(REGISTRY["AF104"], "af.yaml", Span(8, 40), "unquoted 'off'")
    assert not report.has_errors()
    assert [d.severity for d in report.diagnostics()] == ["warning"]
    assert report.has_errors(strict=True)
    assert [d.severity for d in report.diagnostics(strict=True)] == ["error"]


PINNED_BY_UNIT_TESTS = {
    "AF106": "test_load: binary and Latin-1 files",
    "AF107": "test_load: a file over 1 MiB",
    "AF112": "test_load: a document of more than 100,000 values",
    "AF113": "test_load: a symbolic link out of the repository",
    "AF307": "test_refs: a repository without af.yaml",
    "AF411": "test_graph: behavior trees deeper than MAX_DEPTH",
    "AF802": "test_plans: a step input with an integer JSON cannot carry exactly",
}
"""Codes whose input cannot carry an `# expect:` comment, with the test that pins them."""


def test_every_code_is_pinned_at_a_place() -> None:
    pinned = {
        item.code
        for case in sorted((FIXTURES / "cases").iterdir())
        if case.is_dir()
        for item in collect_expectations(case)
        if item.column is not None
    }
    ours = set(REGISTRY)
    assert ours - pinned - set(PINNED_BY_UNIT_TESTS) == set()
    assert set(PINNED_BY_UNIT_TESTS) <= ours
