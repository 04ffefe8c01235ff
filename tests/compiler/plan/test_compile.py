"""Plans: normalized, independent of formatting, and complete enough to run."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentflow.bundle.canonical import canonical_json, sha256_digest
from agentflow.bundle.plan import FsmPlan, LlmPlan, Plan
from agentflow.bundle.plan_json import plan_to_json
from agentflow.bundle.queries import reachable_pairs
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.compiler.plan.compile import compile_plans
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO, ROOT
from tests.repos import AGENT, found, write_repo
from tests.rewrites import Reversed, rewrite_cosmetically


def plans_of(root: Path) -> tuple[dict[str, Plan], Report]:
    validation = validate_snapshot(read_folder(root))
    assert not validation.report.has_errors(), found(validation.report.diagnostics())
    plans = compile_plans(validation.index, validation.conditions, validation.report)
    return dict(plans), validation.report


def plan_files(root: Path) -> dict[str, bytes]:
    plans, _ = plans_of(root)
    return {name: canonical_json(plan_to_json(plan)) for name, plan in plans.items()}


def test_the_example_fsm_plan() -> None:
    plans, _ = plans_of(EXAMPLE_REPO)
    assert sorted(plans) == [
        "eu-support",
        "priority-intake",
        "refund-request",
        "smart-support",
        "support-triage",
        "us-support",
    ]
    plan = plan_to_json(plans["support-triage"])
    fsm = plan["fsm"]
    assert (plan["planner"], plan["timeoutMs"], fsm["initial"]) == ("fsm", 300_000, "classify")
    assert fsm["finals"] == ["escalate", "send_response"]
    assert list(fsm["states"]) == sorted(fsm["states"])
    classify = fsm["states"]["classify"]
    guarded, default = classify["transitions"]
    assert guarded["target"] == "knowledge_search"
    assert guarded["condition"]["source"] == (
        "output.intent == 'question' && output.confidence >= 0.8"
    )
    assert guarded["condition"]["resultType"] == "BOOL"
    assert base64.b64decode(guarded["condition"]["checked"])
    assert default == {"target": "escalate", "condition": None}
    assert classify["onError"] == "escalate"
    assert classify["step"]["timeoutMs"] == 30_000
    assert classify["step"]["binding"] == {
        "agent": "classifier",
        "tool": None,
        "profile": "classifier",
        "tools": ["sentiment"],
    }
    search = fsm["states"]["knowledge_search"]
    assert search["transitions"] == [{"target": "generate_response", "condition": None}]
    assert search["step"]["input"] == {"query": "{{ input.ticket }}", "limit": 5}
    assert search["step"]["retry"] == {
        "maxAttempts": 2,
        "backoff": "exponential",
        "initialDelayMs": 500,
        "maxDelayMs": 2000,
        "jitter": False,
    }
    assert search["step"]["binding"]["profile"] == "researcher.kb-search"
    # no output schema of its own: the tool's outputSchema types the step
    assert "confidence" in search["step"]["outputSchema"]["properties"]
    assert fsm["states"]["send_response"]["transitions"] == []


def test_the_example_bt_and_llm_plans() -> None:
    plans, _ = plans_of(EXAMPLE_REPO)
    bt = plan_to_json(plans["priority-intake"])["bt"]["root"]
    assert bt["kind"] == "sequence"
    selector = bt["children"][1]
    assert selector["kind"] == "conditional_selector"
    assert selector["branches"][0]["when"]["source"].startswith("output.label == 'negative'")
    assert selector["branches"][1]["when"] is None
    assert selector["branches"][0]["do"]["policy"] == "all_success"
    llm_plan = plans["smart-support"]
    assert isinstance(llm_plan, LlmPlan)
    llm = plan_to_json(llm_plan)["llm"]
    assert llm["fallback"] == "support-triage"
    assert llm["allowedDecisions"] == ["search", "answer", "escalate"]
    assert (llm["temperature"], llm["maxSteps"]) == (0.1, 8)
    assert llm["binding"]["tools"] == ["kb-search", "ticket-create"]
    assert reachable_pairs(llm_plan) == {
        ("planner", None),
        ("planner", "kb-search"),
        ("planner", "ticket-create"),
    }
    assert reachable_pairs(plans["priority-intake"]) == {
        ("classifier", "sentiment"),
        ("notifier", "ticket-create"),
        ("notifier", "send-email"),
        ("researcher", "customer-lookup"),
        ("researcher", "kb-search"),
        ("writer", None),
    }


@pytest.mark.parametrize("dumper", [yaml.SafeDumper, Reversed])
@pytest.mark.parametrize("move", [False, True])
def test_cosmetic_edits_change_no_plan(
    tmp_path: Path, dumper: type[yaml.SafeDumper], move: bool
) -> None:
    rewrite_cosmetically(EXAMPLE_REPO, tmp_path, dumper, move=move)
    assert plan_files(tmp_path) == plan_files(EXAMPLE_REPO)


FLOW = """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: flow}
spec:
  initial_state: a
  final_states: [c, b, c]
  states:
    a:
      agent: writer
      on_error: c
      ROUTE
    b: {agent: writer}
    c: {agent: writer, retry: {maxAttempts: 3}}
"""


def _validate_flow(tmp_path: Path, route: str) -> Validation:
    """A mini repo whose workflow's state ``a`` is routed by ``route``, validated."""
    files = {"agents/writer.yaml": AGENT, "workflows/flow.yaml": FLOW.replace("ROUTE", route)}
    return validate_snapshot(read_folder(write_repo(tmp_path, files)))


def _flow(tmp_path: Path, route: str) -> dict[str, Any]:
    validation = _validate_flow(tmp_path, route)
    assert not validation.report.has_errors(), found(validation.report.diagnostics())
    plans = compile_plans(validation.index, validation.conditions, validation.report)
    return plan_to_json(plans["flow"])


def test_on_success_is_one_default_transition(tmp_path: Path) -> None:
    via_on_success = _flow(tmp_path / "a", "on_success: b")
    via_transitions = _flow(tmp_path / "b", "transitions: [{target: b}]")
    assert via_on_success == via_transitions
    assert via_on_success["fsm"]["finals"] == ["b", "c"]
    states = via_on_success["fsm"]["states"]
    assert states["a"]["step"]["retry"]["maxAttempts"] == 1  # no retry anywhere: one attempt
    assert states["c"]["step"]["retry"] == {
        "maxAttempts": 3,
        "backoff": "exponential",
        "initialDelayMs": 0,
        "maxDelayMs": None,
        "jitter": False,
    }


def test_semantic_edits_change_the_plan(tmp_path: Path) -> None:
    base = _flow(tmp_path / "base", "on_success: b")
    guarded = "transitions: [{condition: 'input.size() > 0', target: c}, {target: b}]"
    assert _flow(tmp_path / "target", guarded) != base
    assert _flow(tmp_path / "timeout", "on_success: b\n      timeout: 5s") != base
    assert _flow(tmp_path / "retry", "on_success: b\n      retry: {maxAttempts: 2}") != base
    assert _flow(tmp_path / "same", "on_success: b  # a comment") == base


def test_an_integer_json_cannot_carry_is_reported_and_plans_nothing(tmp_path: Path) -> None:
    validation = _validate_flow(tmp_path, "on_success: b\n      input: {n: 123456789012345678901}")
    assert "flow" not in validation.plans  # af validate compiles plans, so it reports this too
    diagnostics = validation.report.diagnostics()
    assert found(diagnostics) == [("AF802", "workflows/flow.yaml", 12, 14)]
    assert "$.n: integer 123456789012345678901 would change" in diagnostics[0].message


def test_a_condition_that_did_not_compile_plans_nothing(tmp_path: Path) -> None:
    validation = _validate_flow(
        tmp_path, "transitions: [{condition: 'output.x +', target: b}, {target: c}]"
    )
    assert validation.report.has_errors()
    assert compile_plans(validation.index, validation.conditions, validation.report) == {}


_DIGESTS = """\
from pathlib import Path
from agentflow.bundle.canonical import canonical_json, sha256_digest
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.bundle.plan_json import PlanFormatError, plan_from_json, plan_to_json
from agentflow.compiler.plan.compile import compile_plans
from agentflow.compiler.source.snapshot import read_folder
v = validate_snapshot(read_folder(Path("examples/repo")))
for name, plan in compile_plans(v.index, v.conditions, v.report).items():
    print(name, sha256_digest(canonical_json(plan_to_json(plan))))
"""


def test_plans_do_not_depend_on_the_hash_seed() -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _DIGESTS],
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "random")
    }
    assert len(outputs) == 1
    (output,) = outputs
    digests = dict(line.split() for line in output.splitlines())
    assert len(digests) == 6
    assert digests["support-triage"] == sha256_digest(plan_files(EXAMPLE_REPO)["support-triage"])


def test_plans_are_frozen() -> None:
    plans, _ = plans_of(EXAMPLE_REPO)
    plan = plans["support-triage"]
    assert isinstance(plan, FsmPlan)
    with pytest.raises(AttributeError):
        plan.initial = "x"  # type: ignore[misc]
    assert hash(plan) == hash(plans_of(EXAMPLE_REPO)[0]["support-triage"])
