"""References (AF3xx): every name resolves to a resource of the right kind, or says what was meant.

tests/fixtures/cases/refs-* pin codes and positions; these tests cover what a marker cannot (a
missing af.yaml, --env) and pin the hints.
"""

from __future__ import annotations

from pathlib import Path

from tests.repos import AGENT, PROJECT, check, found, only, validate, write_repo

TOOL = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: kb-search}
spec:
  version: 1.0.0
  type: http
  endpoint: https://kb.example.com/search
  timeout: 10s
"""

RESEARCHER = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: researcher}
spec:
  type: llm
  role: support-agent
  model: {provider: openai, name: gpt-4o-mini}
  tools: [kb-search]
"""

RBAC = """\
apiVersion: agentflow.dev/v1
kind: Policy
metadata: {name: support-rbac}
spec:
  roles:
    support-agent:
      allowedTools: [kb-search]
  sandbox: {default: gvisor, allowProcessIn: [dev]}
"""

SEARCH_FLOW = """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: search}
spec:
  initial_state: search
  final_states: [search]
  states:
    search: {agent: researcher, tool: kb-search}
"""

SUPPORT = {
    "tools/kb-search.yaml": TOOL,
    "agents/researcher.yaml": RESEARCHER,
    "policies/support-rbac.yaml": RBAC,
    "workflows/search.yaml": SEARCH_FLOW,
}


def test_consistent_repository_has_no_diagnostics(tmp_path: Path) -> None:
    assert check(tmp_path, SUPPORT) == []


def test_missing_project_points_at_where_af_yaml_belongs(tmp_path: Path) -> None:
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": AGENT}, project=None))
    assert found([diagnostic]) == [("AF307", "af.yaml", 1, 1)]
    assert diagnostic.hint == "create af.yaml with 'kind: Project' at the repository root"


def test_broken_project_reports_its_own_error_not_a_missing_project(tmp_path: Path) -> None:
    project = PROJECT.replace("version: 0.1.0", "version: 1")
    assert found(check(tmp_path, {}, project=project)) == [("AF203", "af.yaml", 5, 12)]


def test_unloadable_project_reports_its_own_error_not_a_missing_project(tmp_path: Path) -> None:
    project = PROJECT + "  policyPacks: [baseline\n"
    assert [d.code for d in check(tmp_path, {}, project=project)] == ["AF101"]


def test_second_project_is_reported_at_its_kind(tmp_path: Path) -> None:
    second = PROJECT.replace("name: mini", "name: other")
    diagnostic = only(check(tmp_path, {"teams/af.yaml": second}))
    assert found([diagnostic]) == [("AF308", "teams/af.yaml", 2, 7)]
    assert diagnostic.hint == "the first is af.yaml"


def test_name_defined_three_times_is_reported_once_per_later_definition(tmp_path: Path) -> None:
    files = {f"tools/copy-{n}.yaml": TOOL for n in (1, 2, 3)}
    diagnostics = check(tmp_path, files)
    assert found(diagnostics) == [
        ("AF306", "tools/copy-2.yaml", 3, 18),
        ("AF306", "tools/copy-3.yaml", 3, 18),
    ]
    assert all(
        d.hint and d.hint.startswith("first defined at tools/copy-1.yaml:3:18") for d in diagnostics
    )


def test_kinds_have_separate_namespaces(tmp_path: Path) -> None:
    agent = RESEARCHER.replace("name: researcher", "name: kb-search")
    files = {**SUPPORT, "agents/kb-search.yaml": agent}
    assert check(tmp_path, files) == []


def test_template_versions_share_one_name(tmp_path: Path) -> None:
    template = (
        "apiVersion: agentflow.dev/v1\nkind: Template\nmetadata: {name: support-flow}\n"
        "spec: {version: VERSION, assets: []}\n"
    )
    files = {
        f"templates/support-flow/{v}/template.yaml": template.replace("VERSION", v)
        for v in ("1.2.3", "2.0.0")
    }
    assert check(tmp_path, files) == []


def test_unknown_tool_on_an_agent_suggests_the_tool_meant(tmp_path: Path) -> None:
    agent = RESEARCHER.replace("tools: [kb-search]", "tools: [kb-serch]")
    files = {**SUPPORT, "agents/researcher.yaml": agent}
    diagnostics = check(tmp_path, files)
    unknown = next(d for d in diagnostics if d.code == "AF302")
    assert (unknown.file, unknown.line, unknown.column) == ("agents/researcher.yaml", 8, 11)
    assert unknown.message == "tool 'kb-serch' is not defined"
    assert unknown.hint == "did you mean 'kb-search'?"


def test_unknown_role_suggests_the_role_meant(tmp_path: Path) -> None:
    agent = RESEARCHER.replace("role: support-agent", "role: suport-agent")
    diagnostic = only(check(tmp_path, {**SUPPORT, "agents/researcher.yaml": agent}))
    assert found([diagnostic]) == [("AF303", "agents/researcher.yaml", 6, 9)]
    assert diagnostic.hint == "did you mean 'support-agent'?"


def test_unknown_agent_in_a_state_suggests_the_agent_meant(tmp_path: Path) -> None:
    flow = SEARCH_FLOW.replace("agent: researcher", "agent: reseacher")
    diagnostic = only(check(tmp_path, {**SUPPORT, "workflows/search.yaml": flow}))
    assert found([diagnostic]) == [("AF301", "workflows/search.yaml", 8, 21)]
    assert diagnostic.hint == "did you mean 'researcher'?"


def test_unknown_agent_in_a_behavior_tree_action(tmp_path: Path) -> None:
    tree = (
        "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: tree}\nspec:\n"
        "  planner: bt\n  root:\n    sequence:\n      - action: {agent: researcher}\n"
        "      - selector:\n          - action: {agent: writter}\n"
    )
    diagnostic = only(check(tmp_path, {**SUPPORT, "workflows/tree.yaml": tree}))
    assert found([diagnostic]) == [("AF301", "workflows/tree.yaml", 10, 29)]


def test_unknown_fallback_workflow_suggests_the_workflow_meant(tmp_path: Path) -> None:
    planner = (
        "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: smart}\nspec:\n"
        "  planner: llm\n  llm: {agent: researcher, maxSteps: 4, allowedDecisions: [answer],"
        " fallback: serch}\n"
    )
    diagnostic = only(check(tmp_path, {**SUPPORT, "workflows/smart.yaml": planner}))
    assert found([diagnostic]) == [("AF304", "workflows/smart.yaml", 6, 79)]
    assert diagnostic.hint == "did you mean 'search'?"


def test_unknown_template_suggests_the_template_meant(tmp_path: Path) -> None:
    template = (
        "apiVersion: agentflow.dev/v1\nkind: Template\nmetadata: {name: support-flow}\n"
        "spec: {version: 1.0.0, assets: []}\n"
    )
    instance = (
        "apiVersion: agentflow.dev/v1\nkind: TemplateInstance\nmetadata: {name: eu}\n"
        'spec: {template: suport-flow, version: "^1.0.0"}\n'
    )
    files = {"templates/support-flow/1.0.0/template.yaml": template, "workflows/eu.yaml": instance}
    diagnostic = only(check(tmp_path, files))
    assert found([diagnostic]) == [("AF305", "workflows/eu.yaml", 4, 18)]
    assert diagnostic.hint == "did you mean 'support-flow'?"


def test_role_defined_by_two_policies_points_at_the_first(tmp_path: Path) -> None:
    other = RBAC.replace("name: support-rbac", "name: team-rbac").replace(
        "  sandbox: {default: gvisor, allowProcessIn: [dev]}\n", ""
    )
    diagnostic = only(check(tmp_path, {**SUPPORT, "policies/team-rbac.yaml": other}))
    assert found([diagnostic]) == [("AF310", "policies/team-rbac.yaml", 6, 5)]
    assert diagnostic.hint == "defined at policies/support-rbac.yaml:6; give each role one home"


def test_step_tool_the_agent_does_not_list_points_at_the_agent(tmp_path: Path) -> None:
    mail = TOOL.replace("kb-search", "send-email")
    flow = SEARCH_FLOW.replace("tool: kb-search", "tool: send-email")
    files = {**SUPPORT, "tools/send-email.yaml": mail, "workflows/search.yaml": flow}
    diagnostic = only(check(tmp_path, files))
    assert found([diagnostic]) == [("AF312", "workflows/search.yaml", 8, 39)]
    assert diagnostic.message == "agent 'researcher' does not list tool 'send-email'"
    assert diagnostic.hint == "add it to the agent's tools at agents/researcher.yaml:8"


def test_sandbox_environment_must_be_defined_by_the_project(tmp_path: Path) -> None:
    rbac = RBAC.replace("allowProcessIn: [dev]", "allowProcessIn: [dev, stagin]")
    diagnostic = only(check(tmp_path, {**SUPPORT, "policies/support-rbac.yaml": rbac}))
    assert found([diagnostic]) == [("AF311", "policies/support-rbac.yaml", 8, 52)]
    assert diagnostic.hint == "expected one of: 'dev', 'prod'"


def test_env_flag_must_name_a_project_environment(tmp_path: Path) -> None:
    write_repo(tmp_path, SUPPORT)
    assert validate(tmp_path, environment="prod") == []
    diagnostic = only(validate(tmp_path, environment="prd"))
    assert found([diagnostic]) == [("AF311", "af.yaml", 7, 3)]
    assert "(from --env)" in diagnostic.message
    assert diagnostic.hint == "did you mean 'prod'?"


def test_a_resource_that_fails_the_schema_is_broken_not_unknown(tmp_path: Path) -> None:
    files = {
        "tools/kb-search.yaml": TOOL.replace("timeout: 10s", "timeout: 10 seconds"),
        "agents/researcher.yaml": RESEARCHER,
        "policies/rbac.yaml": RBAC.replace("allowedTools", "alowedTools"),
    }
    assert sorted(d.code for d in check(tmp_path, files)) == ["AF202", "AF208"]


def test_a_name_no_document_defines_is_still_unknown(tmp_path: Path) -> None:
    files = {"agents/researcher.yaml": RESEARCHER, "policies/rbac.yaml": RBAC}
    assert sorted(d.code for d in check(tmp_path, files)) == ["AF302", "AF302"]
