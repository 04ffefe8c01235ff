"""Schema (AF2xx): each mistake is reported at its key or value, with a hint a user can act on.

tests/fixtures/cases/schema-* pin codes and positions; these tests pin the messages and hints,
which inline markers cannot carry, and the YAML 1.1 traps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.compiler.model.tool import HttpTool
from agentflow.compiler.model.workflow import FsmWorkflow
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.repos import AGENT, PROJECT, check, found, only, write_repo

TOOL = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: kb-search}
spec:
  version: 2.1.0
  type: http
  endpoint: https://kb.example.com/search
  permissions:
    network.http: [kb.example.com]
  timeout: 10s
"""


def test_unknown_field_suggests_the_field_meant(tmp_path: Path) -> None:
    text = TOOL.replace("timeout: 10s", "timout: 10s")
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF202", "tools/kb-search.yaml", 10, 3)]
    assert diagnostic.message == "unknown field 'timout'"
    assert diagnostic.hint == "did you mean 'timeout'?"


def test_unknown_field_in_a_nested_mapping_suggests_from_that_mapping(tmp_path: Path) -> None:
    text = AGENT + "  retry: {maxAtempts: 3}\n"
    diagnostics = check(tmp_path, {"agents/writer.yaml": text})
    unknown = next(d for d in diagnostics if d.code == "AF202")
    assert (unknown.line, unknown.column, unknown.hint) == (7, 11, "did you mean 'maxAttempts'?")
    missing = next(d for d in diagnostics if d.code == "AF201")
    assert (missing.line, missing.column, missing.message) == (
        7,
        3,
        "missing required field 'maxAttempts'",
    )


def test_unquoted_version_number_is_a_wrong_type_with_a_quote_hint(tmp_path: Path) -> None:
    text = TOOL.replace("version: 2.1.0", "version: 1.0")
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF203", "tools/kb-search.yaml", 5, 12)]
    assert diagnostic.message == "expected a string, got a number (1.0)"
    assert diagnostic.hint == 'quote it: "1.0"'


def test_project_version_number_gets_the_same_hint(tmp_path: Path) -> None:
    project = PROJECT.replace("version: 0.1.0", "version: 2")
    diagnostic = only(check(tmp_path, {}, project=project))
    assert found([diagnostic]) == [("AF203", "af.yaml", 5, 12)]
    assert diagnostic.hint == 'quote it: "2"'


def test_unquoted_off_is_the_string_off_with_a_yaml_1_1_warning(tmp_path: Path) -> None:
    project = PROJECT.replace('residency: "off"', "residency: off")
    write_repo(tmp_path, {}, project=project)
    validation = validate_snapshot(read_folder(tmp_path))
    diagnostic = only(validation.report.diagnostics())
    assert found([diagnostic]) == [("AF104", "af.yaml", 8, 40)]
    assert diagnostic.severity == "warning"
    assert diagnostic.hint == 'quote it: "off"'
    assert "YAML 1.1" in diagnostic.message
    assert validation.index.project is not None
    assert validation.index.project.spec.environments["dev"].residency == "off"


def test_yes_for_a_flag_permission_is_a_wrong_type_mentioning_yaml_1_1(tmp_path: Path) -> None:
    text = TOOL.replace("network.http: [kb.example.com]", "fs.tmp: yes")
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF203", "tools/kb-search.yaml", 9, 13)]
    assert diagnostic.hint is not None
    assert "YAML 1.1" in diagnostic.hint
    assert "true" in diagnostic.hint


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "N"])
def test_yaml_1_1_word_for_a_boolean_field_is_a_wrong_type(tmp_path: Path, word: str) -> None:
    text = AGENT + f"  residency: {{region: eu, strict: {word}}}\n"
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF203", "agents/writer.yaml", 7, 35)]
    assert diagnostic.hint == f"write true or false; '{word}' is a boolean only in YAML 1.1"


def test_quoted_yes_where_a_boolean_is_expected_has_no_yaml_1_1_hint(tmp_path: Path) -> None:
    text = AGENT + '  residency: {region: eu, strict: "yes"}\n'
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert diagnostic.code == "AF203"
    assert diagnostic.hint is None


def test_missing_api_version_says_what_to_write(tmp_path: Path) -> None:
    text = AGENT.replace("apiVersion: agentflow.dev/v1\n", "")
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF201", "agents/writer.yaml", 1, 1)]
    assert diagnostic.hint == "add 'apiVersion: agentflow.dev/v1'"


def test_unknown_kind_suggests_the_kind_meant(tmp_path: Path) -> None:
    text = AGENT.replace("kind: Agent", "kind: Agnet")
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF205", "agents/writer.yaml", 2, 7)]
    assert diagnostic.hint == "did you mean 'Agent'?"


@pytest.mark.parametrize("kind", ["[Agent]", "{name: Agent}", "3", "true"])
def test_kind_that_is_not_a_string_is_an_unknown_kind(tmp_path: Path, kind: str) -> None:
    text = AGENT.replace("kind: Agent", f"kind: {kind}")
    assert found(check(tmp_path, {"agents/writer.yaml": text})) == [
        ("AF205", "agents/writer.yaml", 2, 7)
    ]


def test_unsupported_api_version_names_the_supported_one(tmp_path: Path) -> None:
    text = AGENT.replace("agentflow.dev/v1", "agentflow.dev/v1beta1")
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF206", "agents/writer.yaml", 1, 13)]
    assert diagnostic.hint == "this compiler reads 'agentflow.dev/v1'"


def test_invalid_value_suggests_the_value_meant(tmp_path: Path) -> None:
    text = AGENT.replace("type: llm", "type: lm")
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF204", "agents/writer.yaml", 5, 9)]
    assert diagnostic.message == "'lm' is not one of 'llm', 'http' or 'tool'"
    assert diagnostic.hint == "did you mean 'llm'?"


def test_unknown_planner_is_reported_at_the_planner(tmp_path: Path) -> None:
    text = (
        "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  planner: dag\n"
    )
    diagnostic = only(check(tmp_path, {"workflows/w.yaml": text}))
    assert found([diagnostic]) == [("AF204", "workflows/w.yaml", 5, 12)]
    assert diagnostic.message == "planner 'dag' is not one of 'fsm', 'bt', 'llm'"


def test_planner_that_is_not_a_string_is_a_wrong_type(tmp_path: Path) -> None:
    text = (
        "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  planner: 2\n"
    )
    diagnostic = only(check(tmp_path, {"workflows/w.yaml": text}))
    assert found([diagnostic]) == [("AF203", "workflows/w.yaml", 5, 12)]


def test_unknown_behavior_tree_node_suggests_the_node_meant(tmp_path: Path) -> None:
    text = (
        "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n"
        "  planner: bt\n  root:\n    sequence:\n      - acton: {agent: writer}\n"
    )
    diagnostic = only(check(tmp_path, {"workflows/w.yaml": text, "agents/writer.yaml": AGENT}))
    assert found([diagnostic]) == [("AF204", "workflows/w.yaml", 8, 9)]
    assert diagnostic.hint == "did you mean 'action'?"


@pytest.mark.parametrize(
    ("line", "code", "example"),
    [
        ("  timeout: 10 seconds\n", "AF208", "500ms, 30s, 5m or 1h"),
        ("  resources: {memory: 256MB}\n", "AF209", "256Mi, 1Gi or 500m"),
    ],
)
def test_durations_and_quantities_show_an_example(
    tmp_path: Path, line: str, code: str, example: str
) -> None:
    text = TOOL.replace("  timeout: 10s\n", line)
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert (diagnostic.code, diagnostic.line) == (code, 10)
    assert diagnostic.hint == f"for example {example}"


def test_bad_semantic_version_shows_an_example(tmp_path: Path) -> None:
    text = TOOL.replace("version: 2.1.0", "version: v2.1")
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF210", "tools/kb-search.yaml", 5, 12)]
    assert diagnostic.hint == "for example 1.4.0"


def test_bad_name_says_what_a_name_is(tmp_path: Path) -> None:
    text = AGENT.replace("name: writer", "name: Writer_Bot")
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF207", "agents/writer.yaml", 3, 18)]
    assert "lowercase letters, digits and '-'" in diagnostic.message


def test_user_schema_type_typo_points_inside_the_schema(tmp_path: Path) -> None:
    text = TOOL + "  inputSchema:\n    type: object\n    properties:\n      query: {type: strng}\n"
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF211", "tools/kb-search.yaml", 14, 21)]
    assert diagnostic.hint == "did you mean 'string'?"


def test_user_schema_with_a_non_string_dialect_is_reported_not_crashed(tmp_path: Path) -> None:
    text = TOOL + "  outputSchema: {$schema: [draft-07], type: object}\n"
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF211", "tools/kb-search.yaml", 11, 27)]


def test_user_schema_in_an_older_dialect_is_checked_against_that_dialect(tmp_path: Path) -> None:
    draft4 = '{$schema: "http://json-schema.org/draft-04/schema#", exclusiveMinimum: 5}'
    text = TOOL + f"  inputSchema: {draft4}\n"
    diagnostics = check(tmp_path, {"tools/kb-search.yaml": text})
    # Draft 4 wants a boolean exclusiveMinimum, and a minimum beside it; 2020-12 would accept
    # the number alone.
    assert found(diagnostics) == [
        ("AF211", "tools/kb-search.yaml", 11, 16),
        ("AF211", "tools/kb-search.yaml", 11, 87),
    ]
    assert "'minimum' is a dependency of 'exclusiveMinimum'" in diagnostics[0].message
    assert "5 is not of type 'boolean'" in diagnostics[1].message


def test_unknown_permission_suggests_the_permission_meant(tmp_path: Path) -> None:
    text = TOOL.replace("network.http:", "network.htp:")
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF212", "tools/kb-search.yaml", 9, 5)]
    assert diagnostic.hint == "did you mean 'network.http'?"


def test_url_in_a_domain_allow_list_is_not_a_domain(tmp_path: Path) -> None:
    text = TOOL.replace("[kb.example.com]", '[kb.example.com, "https://kb.example.com:443/"]')
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF212", "tools/kb-search.yaml", 9, 36)]
    assert "no scheme, path or port" in (diagnostic.hint or "")


def test_valid_resources_become_typed_models(tmp_path: Path) -> None:
    flow = (
        "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: answer}\nspec:\n"
        "  initial_state: draft\n  final_states: [draft]\n  states:\n    draft: {agent: writer}\n"
    )
    write_repo(
        tmp_path,
        {"tools/kb-search.yaml": TOOL, "agents/writer.yaml": AGENT, "workflows/answer.yaml": flow},
    )
    validation = validate_snapshot(read_folder(tmp_path))
    assert validation.report.diagnostics() == []
    tool = validation.index.get("Tool", "kb-search")
    assert tool is not None and isinstance(tool.spec, HttpTool)
    assert tool.spec.timeout == "10s"
    assert tool.spec.permissions == {"network.http": ["kb.example.com"]}
    workflow = validation.index.get("Workflow", "answer")
    assert workflow is not None and isinstance(workflow.spec, FsmWorkflow)
    assert workflow.spec.planner == "fsm"
