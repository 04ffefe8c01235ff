"""Workflow graph checks (AF4xx) beyond what the fixture cases' markers can say.

The retry-budget arithmetic against a step-by-step reference, the depth bound (the loader's
nesting limit keeps trees that deep out of YAML files), hints, and which consequences of one
mistake stay quiet.
"""

from __future__ import annotations

from typing import Any, get_args

import pytest

from agentflow.compiler.check.bt import MAX_DEPTH, check_bt
from agentflow.compiler.check.timing import compute_retry_budget_ms, format_ms, sum_backoff_ms
from agentflow.compiler.check.workflows import CHECKS
from agentflow.compiler.diagnostics.report import Diagnostic, Report
from agentflow.compiler.load.document import Document
from agentflow.compiler.load.index import build_index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.base import Retry
from agentflow.compiler.model.resources import Workflow
from agentflow.compiler.model.units import duration_ms
from agentflow.compiler.model.workflow import BtWorkflow, FsmWorkflow, LlmWorkflow
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import Snapshot, SourceFile

# --- retry arithmetic ----------------------------------------------------------------------


def retry(
    attempts: int, backoff: str = "exponential", initial: str | None = None, cap: str | None = None
) -> Retry:
    return Retry.model_validate(
        {"maxAttempts": attempts, "backoff": backoff, "initialDelay": initial, "maxDelay": cap}
    )


def reference_delays_ms(r: Retry) -> int:
    """The waits one by one, as a runtime would take them."""
    first = duration_ms(r.initial_delay) if r.initial_delay else 0
    cap = duration_ms(r.max_delay) if r.max_delay else None
    total, delay = 0, first
    for wait in range(1, r.max_attempts):
        if r.backoff == "linear":
            delay = first * wait
        elif r.backoff == "exponential" and wait > 1:
            delay *= 2
        total += delay if cap is None else min(delay, cap)
    return total


@pytest.mark.parametrize(
    ("r", "expected_ms"),
    [
        (retry(1, initial="1s"), 0),  # one attempt: no wait
        (retry(4), 0),  # no initialDelay: no wait
        (retry(4, "constant", "1s"), 3000),  # 1 + 1 + 1
        (retry(4, "linear", "1s"), 6000),  # 1 + 2 + 3
        (retry(4, "exponential", "1s"), 7000),  # 1 + 2 + 4
        (retry(5, "exponential", "1s", "3s"), 9000),  # 1 + 2 + 3 + 3
        (retry(5, "linear", "2s", "5s"), 16000),  # 2 + 4 + 5 + 5
        (retry(3, "constant", "10s", "4s"), 8000),  # capped from the start
        (retry(3, "exponential", "500ms", "2s"), 1500),  # the SPEC's example
        (retry(100, "exponential", "1ms"), 2**99 - 1),  # exact at the bound
    ],
)
def test_backoff_delays(r: Retry, expected_ms: int) -> None:
    assert sum_backoff_ms(r) == expected_ms


def test_backoff_delays_match_the_step_by_step_reference() -> None:
    delays = (None, "1ms", "7ms", "250ms", "1s", "3s")
    for backoff in ("constant", "linear", "exponential"):
        for attempts in (1, 2, 3, 7, 20, 64):
            for initial in delays:
                for cap in delays:
                    r = retry(attempts, backoff, initial, cap)
                    assert sum_backoff_ms(r) == reference_delays_ms(r), r


def test_retry_budget_is_every_attempt_plus_every_wait() -> None:
    assert compute_retry_budget_ms(retry(3, "exponential", "1s"), 20_000) == 63_000
    assert compute_retry_budget_ms(retry(1, "linear", "1h"), 5_000) == 5_000
    assert compute_retry_budget_ms(retry(4, "exponential", "2s", "4s"), 0) == 10_000


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (500, "500ms"),
        (63_000, "1m3s"),
        (3_600_000, "1h"),
        (3_661_001, "1h1m1s1ms"),
    ],
)
def test_format_ms_writes_durations_users_write(ms: int, text: str) -> None:
    assert format_ms(ms) == text
    assert duration_ms(text) == ms


# --- behavior-tree depth -------------------------------------------------------------------


def tree_resource(levels: int) -> Resource:
    node: dict[str, Any] = {"action": {"agent": "worker"}}
    for _ in range(levels - 1):
        node = {"sequence": [node]}
    data = {
        "apiVersion": "agentflow.dev/v1",
        "kind": "Workflow",
        "metadata": {"name": "deep"},
        "spec": {"planner": "bt", "root": node},
    }
    doc = Document(file="deep.yaml", data=data, value_spans={}, key_spans={})
    return Resource(kind="Workflow", name="deep", doc=doc, model=Workflow.model_validate(data))


def bt_codes(levels: int) -> list[str]:
    resource = tree_resource(levels)
    index = build_index((resource,), Report())
    report = Report()
    check_bt(index, resource, report)
    return [d.code for d in report.diagnostics()]


def test_depth_bound_allows_exactly_max_depth_levels() -> None:
    assert bt_codes(MAX_DEPTH) == []


def test_deeper_trees_are_reported_once() -> None:
    assert bt_codes(MAX_DEPTH + 1) == ["AF411"]
    assert bt_codes(MAX_DEPTH + 10) == ["AF411"]


# --- whole repositories --------------------------------------------------------------------

SUPPORT = {
    "af.yaml": """\
apiVersion: agentflow.dev/v1
kind: Project
metadata: {name: graph}
spec: {version: 0.1.0, afVersion: ">=0.1 <1.0"}
""",
    "policy.yaml": """\
apiVersion: agentflow.dev/v1
kind: Policy
metadata: {name: rbac}
spec: {roles: {worker: {}}}
""",
    "worker.yaml": """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: worker}
spec: {type: llm, role: worker, model: {provider: openai, name: gpt-4o-mini}}
""",
}


def validate_flow(states: str, *, initial: str = "a", finals: str = "[z]") -> list[Diagnostic]:
    flow = f"""\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {{name: flow}}
spec:
  timeout: 5m
  initial_state: {initial}
  final_states: {finals}
  states:
{states}"""
    files = {**SUPPORT, "flow.yaml": flow}
    snapshot = Snapshot(
        root="memory",
        files=tuple(SourceFile(path, text.encode()) for path, text in sorted(files.items())),
    )
    return validate_snapshot(snapshot).report.diagnostics()


def codes_at(diagnostics: list[Diagnostic]) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in diagnostics]


def test_a_sound_flow_reports_nothing() -> None:
    assert (
        validate_flow("""\
    a: {agent: worker, on_success: b, on_error: z}
    b: {agent: worker, on_success: z}
    z: {agent: worker}
""")
        == []
    )


def test_unknown_target_gets_a_did_you_mean_hint() -> None:
    [diagnostic] = validate_flow("""\
    a: {agent: worker, on_success: z, on_error: revew}
    review: {agent: worker, on_success: z}
    z: {agent: worker}
""")
    assert (diagnostic.code, diagnostic.hint) == ("AF401", "did you mean 'review'?")


def test_unknown_target_from_an_unreachable_state_keeps_reachability() -> None:
    # Only edges from reachable states could have led somewhere new.
    assert codes_at(
        validate_flow("""\
    a: {agent: worker, on_success: z}
    b: {agent: worker, on_success: nowhere}
    z: {agent: worker}
""")
    ) == [("AF402", 10), ("AF401", 10)]


def test_states_leading_into_a_dead_end_are_not_also_stuck() -> None:
    # 'c' is the mistake (AF404); 'b' only leads there, and is not reported again.
    assert codes_at(
        validate_flow("""\
    a: {agent: worker, on_success: b, on_error: z}
    b: {agent: worker, on_success: c}
    c: {agent: worker}
    z: {agent: worker}
""")
    ) == [("AF404", 11)]


def test_a_cycle_without_exit_is_reported_at_each_state() -> None:
    assert codes_at(
        validate_flow("""\
    a: {agent: worker, on_success: b, on_error: z}
    b: {agent: worker, on_success: c}
    c: {agent: worker, on_success: b}
    z: {agent: worker}
""")
    ) == [("AF403", 10), ("AF403", 11)]


def test_unreachable_states_are_not_also_stuck() -> None:
    assert codes_at(
        validate_flow("""\
    a: {agent: worker, on_success: z}
    b: {agent: worker, on_success: b}
    z: {agent: worker}
""")
    ) == [("AF402", 10)]


def test_unknown_final_states_alone_report_no_stuck_states() -> None:
    assert codes_at(
        validate_flow(
            """\
    a: {agent: worker, on_success: b}
    b: {agent: worker, on_success: a}
""",
            finals="[zz]",
        )
    ) == [("AF401", 7)]


def test_on_error_edges_count_for_reachability() -> None:
    assert (
        validate_flow("""\
    a: {agent: worker, on_success: z, on_error: b}
    b: {agent: worker, on_success: z}
    z: {agent: worker}
""")
        == []
    )


def test_every_planner_has_its_checks() -> None:
    planners = {
        name
        for spec in (FsmWorkflow, BtWorkflow, LlmWorkflow)
        for name in get_args(spec.model_fields["planner"].annotation)
    }
    assert set(CHECKS) == planners == {"fsm", "bt", "llm"}
