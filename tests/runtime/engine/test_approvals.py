"""Approval states: the run waits; a decision routes it; a timeout takes on_error."""

from __future__ import annotations

from agentflow.bundle.conditions import ConditionEvaluator
from agentflow.bundle.plan import (
    NO_RETRY,
    ApprovalPlan,
    Binding,
    FsmPlan,
    StatePlan,
    Step,
    Transition,
)
from agentflow.runtime.engine.context import Context
from agentflow.runtime.engine.decide import decide
from agentflow.runtime.engine.run import (
    ApprovalExpired,
    ApprovalGiven,
    AwaitApproval,
    RunState,
    RunStep,
    SetTimer,
    Started,
    StepSucceeded,
)
from tests.runtime.engine.drive import drive


def _step(agent: str) -> Step:
    binding = Binding(agent=agent, tool=None, profile=agent, tools=())
    return Step(
        binding=binding,
        prompt=None,
        input=None,
        output_schema=None,
        timeout_ms=None,
        retry=NO_RETRY,
    )


def _refund_plan() -> FsmPlan:
    return FsmPlan(
        name="refund",
        timeout_ms=None,
        input_schema=None,
        initial="approve_refund",
        finals=("issue_refund", "notify_denied", "escalate"),
        states=(
            StatePlan(
                name="approve_refund",
                step=None,
                approval=ApprovalPlan(role="support-lead", timeout_ms=86_400_000, prompt="Refund?"),
                transitions=(Transition(target="issue_refund", condition=None),),
                on_error="escalate",
            ),
            StatePlan(name="escalate", step=_step("notifier"), transitions=(), on_error=None),
            StatePlan(name="issue_refund", step=_step("notifier"), transitions=(), on_error=None),
            StatePlan(name="notify_denied", step=_step("notifier"), transitions=(), on_error=None),
        ),
    )


def _ctx(now: int = 0) -> Context:
    return Context(
        {"refund": _refund_plan()}, ConditionEvaluator(("input", "output", "state", "env")), now
    )


def test_a_run_waits_in_an_approval_state_and_the_decision_is_its_output() -> None:
    trace = drive(
        "refund",
        lambda s: StepSucceeded(s.seq, {"ok": True}),
        approvals={"approve_refund": (True, "lead@example.com", "fine")},
        plans={"refund": _refund_plan()},
    )
    assert [a.state for a in trace.approvals] == ["approve_refund"]
    assert trace.approvals[0].role == "support-lead"
    assert trace.path == ["issue_refund"]
    assert dict(trace.state.context)["approve_refund"] == {
        "approved": True,
        "approver": "lead@example.com",
        "comment": "fine",
    }
    assert trace.state.status == "succeeded"


def test_without_a_decision_the_run_is_waiting_with_a_timer() -> None:
    fresh = RunState(run_id="r", workflow="refund", plan="refund")
    decision = decide(_ctx(10), fresh, Started())
    assert decision.state.status == "waiting"
    assert decision.state.waiting_for == "approve_refund"
    assert [type(c) for c in decision.commands] == [AwaitApproval, SetTimer]
    timer = decision.commands[1]
    assert isinstance(timer, SetTimer) and timer.at_ms == 10 + 86_400_000
    # a decision for another state, or a late one, changes nothing
    other = decide(_ctx(), decision.state, ApprovalGiven("elsewhere", True, "x", ""))
    assert other.state == decision.state


def test_an_approval_that_times_out_takes_on_error() -> None:
    waiting = decide(
        _ctx(), RunState(run_id="r", workflow="refund", plan="refund"), Started()
    ).state
    expired = decide(_ctx(), waiting, ApprovalExpired("approve_refund"))
    assert expired.state.position == "escalate" and expired.state.status == "running"
    (step,) = expired.commands
    assert isinstance(step, RunStep) and step.name == "escalate"
