"""Behavior trees by replay (parallel children at once, selectors, conditions) and the LLM
planner with its fallback."""

from __future__ import annotations

from agentflow.runtime.engine.run import RunStep, StepFailed, StepSucceeded
from tests.runtime.engine.drive import drive

TICKET = {"ticket": "My invoice is wrong and nobody answers!"}


def _answers(**by_name: object):  # type: ignore[no-untyped-def]
    def answer(step: RunStep) -> StepSucceeded | StepFailed:
        value = by_name[step.name.replace("/", "__").replace("-", "_")]
        if isinstance(value, Exception):
            return StepFailed(step.seq, str(value), retryable=False)
        return StepSucceeded(step.seq, value)

    return answer


def test_an_angry_customer_is_escalated_and_looked_up_in_parallel() -> None:
    trace = drive(
        "priority-intake",
        _answers(
            classifier__sentiment={"label": "negative", "score": -0.8},
            notifier__ticket_create={"ticket_id": "T-9"},
            researcher__customer_lookup={"tier": "gold"},
            notifier__send_email={"sent": True},
        ),
        input=TICKET,
    )
    assert trace.path == [
        "classifier/sentiment",
        "notifier/ticket-create",
        "researcher/customer-lookup",
        "notifier/send-email",
    ]
    # both children of the parallel node were dispatched by one decision, before either answered
    parallel = trace.steps[1:3]
    assert {s.key for s in parallel} == {"0.1.0.0", "0.1.0.1"}
    assert trace.state.status == "succeeded"
    assert trace.state.output == {"sent": True}
    assert dict(trace.state.context)["researcher/customer-lookup"] == {"tier": "gold"}


def test_a_selector_falls_through_when_a_condition_does_not_hold() -> None:
    trace = drive(
        "priority-intake",
        _answers(
            classifier__sentiment={"label": "neutral", "score": 0.1},
            researcher__kb_search={"items": [], "confidence": 0.2},
            writer={"subject": "s", "body": "b"},
            notifier__send_email={"sent": True},
        ),
        input=TICKET,
    )
    assert trace.path == [
        "classifier/sentiment",
        "researcher/kb-search",
        "writer",
        "notifier/send-email",
    ]
    assert trace.state.status == "succeeded"


def test_a_failing_parallel_child_fails_the_tree() -> None:
    trace = drive(
        "priority-intake",
        _answers(
            classifier__sentiment={"label": "negative", "score": -0.9},
            notifier__ticket_create=RuntimeError("ticket system down"),
            researcher__customer_lookup={"tier": "gold"},
        ),
        input=TICKET,
    )
    assert trace.state.status == "failed"
    assert trace.state.error == "ticket system down"
    assert "notifier/send-email" not in trace.path


def test_the_planner_decides_within_its_allowed_decisions() -> None:
    decision = {"decision": "answer", "answer": "Open Settings.", "reason": "known"}
    trace = drive("smart-support", lambda s: StepSucceeded(s.seq, decision), input=TICKET)
    assert trace.path == ["planner"]
    planner = trace.steps[0]
    assert planner.planning == ("search", "answer", "escalate")
    assert planner.max_rounds == 8 and planner.temperature == 0.1
    assert trace.state.status == "succeeded" and trace.state.output == decision
    assert trace.fallbacks == []


def test_a_disallowed_decision_hands_the_run_to_the_fallback_fsm() -> None:
    answers = {
        "planner": {"decision": "refund", "reason": "why not"},
        "classify": {"intent": "complaint", "confidence": 0.9},
        "escalate": {"ticket_id": "T-3"},
    }
    trace = drive("smart-support", lambda s: StepSucceeded(s.seq, answers[s.name]), input=TICKET)
    assert trace.path == ["planner", "classify", "escalate"]
    assert [f.plan for f in trace.fallbacks] == ["support-triage"]
    assert "'refund'" in trace.fallbacks[0].reason
    assert trace.state.fell_back and trace.state.plan == "support-triage"
    assert trace.state.status == "succeeded"
    assert trace.steps[1].seq == 2  # one run, one numbering


def test_a_failed_planning_turn_also_falls_back() -> None:
    def answer(step: RunStep) -> StepSucceeded | StepFailed:
        if step.name == "planner":
            return StepFailed(step.seq, "model answered no JSON")
        return StepSucceeded(step.seq, {"intent": "other", "confidence": 0.1, "ticket_id": "T"})

    trace = drive("smart-support", answer, input=TICKET)
    assert trace.path[0] == "planner" and trace.fallbacks
    assert trace.fallbacks[0].reason == "planning failed: model answered no JSON"
