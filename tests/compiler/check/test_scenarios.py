"""Scenarios against the workflows they run: what each stub answers, which paths a run may take,
and the checked form `af test` reads (SPEC §1, Scenario)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.bundle.plan import Plan
from agentflow.bundle.scenario import scenarios_from_json, scenarios_to_json
from agentflow.compiler.check.paths import check_path
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO
from tests.repos import found, validate, write_repo

ASKER = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: asker}
spec:
  type: llm
  role: worker
  model: {provider: vllm, name: small}
"""
DOER = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: doer}
spec:
  type: tool
  role: worker
  tools: [lookup]
"""
RBAC = """\
apiVersion: agentflow.dev/v1
kind: Policy
metadata: {name: rbac}
spec:
  roles:
    worker: {allowedTools: [lookup]}
"""
LOOKUP = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: lookup}
spec:
  version: 1.0.0
  type: http
  endpoint: http://127.0.0.1:8080/lookup
  outputSchema: {type: object, properties: {found: {type: boolean}}, required: [found]}
  timeout: 5s
"""
TWO_SCHEMAS = """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: twice}
spec:
  timeout: 5m
  initial_state: first
  final_states: [second]
  states:
    first:
      agent: asker
      output: {schema: {type: object, properties: {a: {type: string}}, required: [a]}}
      on_success: look
    look: {agent: doer, tool: lookup, on_success: second}
    second:
      agent: asker
      output: {schema: {type: object, properties: {b: {type: integer}}, required: [b]}}
"""


def _scenario(stubs: str, path: str = "[first, look, second]", status: str = "succeeded") -> str:
    return f"""\
apiVersion: agentflow.dev/v1
kind: Scenario
metadata: {{name: probe}}
spec:
  workflow: twice
  stubs:
{stubs}
  expect: {{status: {status}, path: {path}}}
"""


def _repo(tmp_path: Path, scenario: str, workflow: str = TWO_SCHEMAS) -> Path:
    return write_repo(
        tmp_path,
        {
            "agents/asker.yaml": ASKER,
            "agents/doer.yaml": DOER,
            "policies/rbac.yaml": RBAC,
            "tools/lookup.yaml": LOOKUP,
            "workflows/twice.yaml": workflow,
            "scenarios/probe.yaml": scenario,
        },
    )


@pytest.fixture(scope="module")
def example() -> Validation:
    validation = validate_snapshot(read_folder(EXAMPLE_REPO))
    assert validation.report.diagnostics() == []
    return validation


def test_the_example_scenarios_walk_every_workflow_and_read_back(example: Validation) -> None:
    walked = {s.workflow for s in example.scenarios}
    rendered_once = {"eu-support"}  # support-flow's runs are walked through us-support
    assert walked == set(example.plans) - rendered_once
    statuses = {s.name: s.expect_status for s in example.scenarios}
    assert statuses["refund-waiting"] == "waiting"
    document = json.loads(json.dumps(scenarios_to_json(example.scenarios, "sha256:" + "0" * 64)))
    digest, scenarios = scenarios_from_json(document)
    assert (digest, scenarios) == ("sha256:" + "0" * 64, example.scenarios)
    reset = next(s for s in scenarios if s.name == "password-reset")
    assert (reset.file, reset.line) == ("scenarios/password-reset.yaml", 6)
    assert dict(reset.stubs)["kb-search"][0].error == "timeout"


def test_an_agent_stubbed_for_several_steps_must_match_each_schema(tmp_path: Path) -> None:
    stubs = "    asker: [{output: {a: x}}]\n    lookup: [{output: {found: true}}]"
    diagnostics = validate(_repo(tmp_path, _scenario(stubs)))
    assert found(diagnostics) == [("AF905", "scenarios/probe.yaml", 7, 22)]
    assert "of state 'second': 'b' is a required property" in diagnostics[0].message


def test_a_tool_stub_answers_before_its_agent(tmp_path: Path) -> None:
    stubs = (
        "    asker: [{output: {a: x, b: 1}}]\n    doer: [{output: {}}]\n"
        "    lookup: [{output: {found: false}}]"
    )
    diagnostics = validate(_repo(tmp_path, _scenario(stubs)))
    assert found(diagnostics) == [("AF906", "scenarios/probe.yaml", 8, 5)]
    assert "answered by another stub" in (diagnostics[0].hint or "")


def test_an_agent_stub_answers_a_tool_step_without_a_tool_stub(tmp_path: Path) -> None:
    stubs = "    asker: [{output: {a: x, b: 1}}]\n    doer: [{output: {hits: 3}}]"
    diagnostics = validate(_repo(tmp_path, _scenario(stubs)))
    assert found(diagnostics) == [("AF905", "scenarios/probe.yaml", 8, 21)]
    assert "state 'look'" in diagnostics[0].message and "'found'" in diagnostics[0].message


def test_a_step_on_the_path_without_a_stub_is_a_warning(tmp_path: Path) -> None:
    stubs = "    asker: [{output: {a: x, b: 1}}]"
    diagnostics = validate(_repo(tmp_path, _scenario(stubs)))
    assert found(diagnostics) == [("AF911", "scenarios/probe.yaml", 8, 45)]
    assert diagnostics[0].severity == "warning"
    assert "'doer' or 'lookup'" in (diagnostics[0].hint or "")


def test_a_broken_workflow_leaves_only_what_needs_no_plan(tmp_path: Path) -> None:
    broken = TWO_SCHEMAS.replace(
        "on_success: look", "transitions: [{condition: 'output.c', target: look}]"
    )
    stubs = "    askr: [{output: {}}]"
    diagnostics = validate(_repo(tmp_path, _scenario(stubs, path="[nowhere]"), broken))
    assert [d.code for d in diagnostics] == ["AF903", "AF502"]  # no AF910: there is no plan


# --- paths ---------------------------------------------------------------------------------


def _check(
    example: Validation,
    workflow: str,
    path: list[str] | None,
    status: str,
    decided: tuple[str, ...],
) -> str | None:
    """The problem `check_path` finds, as ``index: message``; None when the run is allowed."""
    plans: dict[str, Plan] = dict(example.plans)
    walk = None if path is None else tuple(path)
    problem = check_path(plans[workflow], plans, walk, status, frozenset(decided))
    return None if problem is None else f"{problem.index}: {problem.message}"


@pytest.mark.parametrize(
    ("workflow", "path", "status", "decided"),
    [
        ("support-triage", ["classify", "escalate"], "succeeded", ()),
        ("support-triage", ["classify", "classify", "classify", "escalate"], "succeeded", ()),
        ("support-triage", ["classify"], "failed", ()),
        ("support-triage", [], "cancelled", ()),
        ("support-triage", None, "succeeded", ()),
        ("refund-request", ["assess_refund", "approve_refund", "escalate"], "succeeded", ()),
        ("refund-request", ["assess_refund", "approve_refund"], "waiting", ()),
        ("refund-request", None, "waiting", ()),
        (
            "refund-request",
            [
                "assess_refund",
                "approve_refund",
                "issue_refund",
                "issue_refund",
                "issue_refund",
                "escalate",
            ],
            "succeeded",
            ("approve_refund",),
        ),
        ("priority-intake", ["writer", "notifier/send-email"], "succeeded", ()),
        ("smart-support", ["planner"], "succeeded", ()),
        ("smart-support", ["planner", "classify", "knowledge_search"], "timed_out", ()),
    ],
)
def test_runs_the_graph_allows(
    example: Validation,
    workflow: str,
    path: list[str] | None,
    status: str,
    decided: tuple[str, ...],
) -> None:
    assert _check(example, workflow, path, status, decided) is None


@pytest.mark.parametrize(
    ("workflow", "path", "status", "decided", "problem"),
    [
        ("support-triage", ["escalate"], "succeeded", (), "0: a run of 'support-triage' starts"),
        (
            "support-triage",
            ["classify", "classify", "classify", "classify"],
            "failed",
            (),
            "3: state 'classify' runs at most 3 attempts",
        ),
        (
            "support-triage",
            ["classify", "escalate", "classify"],
            "failed",
            (),
            "2: 'escalate' is a final state",
        ),
        (
            "support-triage",
            ["classify", "knowledge_search"],
            "succeeded",
            (),
            "1: a run of 'support-triage' succeeds only at a final state",
        ),
        ("support-triage", ["clasify"], "failed", (), "0: 'clasify' is not a state"),
        (
            "refund-request",
            ["assess_refund", "approve_refund", "issue_refund"],
            "failed",
            (),
            "2: the run waits at approval state 'approve_refund'",
        ),
        (
            "refund-request",
            ["assess_refund", "approve_refund"],
            "waiting",
            ("approve_refund",),
            "1: the scenario decides approval state 'approve_refund'",
        ),
        ("refund-request", ["assess_refund"], "waiting", (), "0: a run waits only at an approval"),
        ("support-triage", None, "waiting", (), "None: workflow 'support-triage' has no approval"),
        ("priority-intake", ["classifier"], "succeeded", (), "0: 'classifier' is not an action"),
        ("priority-intake", None, "waiting", (), "None: a behavior tree has no approval states"),
        ("smart-support", ["classify"], "succeeded", (), "0: a run of 'smart-support' starts"),
        (
            "smart-support",
            ["planner", "escalate"],
            "succeeded",
            (),
            "1: a run of 'support-triage' starts at 'classify'",
        ),
    ],
)
def test_runs_the_graph_refuses(
    example: Validation,
    workflow: str,
    path: list[str] | None,
    status: str,
    decided: tuple[str, ...],
    problem: str,
) -> None:
    said = _check(example, workflow, path, status, decided)
    assert said is not None and said.startswith(problem), said
