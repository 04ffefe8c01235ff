"""FSM plans: first matching transition, retries with backoff, on_error, deadline and cancel."""

from __future__ import annotations

from agentflow.bundle.conditions import ConditionEvaluator
from agentflow.runtime.engine.context import Context
from agentflow.runtime.engine.decide import decide
from agentflow.runtime.engine.run import (
    CancelRequested,
    DeadlineReached,
    RunState,
    RunStep,
    Started,
    StepFailed,
    StepSucceeded,
)
from tests.runtime.engine.drive import drive, example_plans

TICKET = {"ticket": "How do I reset my password?"}
ANSWERS = {
    "classify": {"intent": "question", "confidence": 0.93},
    "knowledge_search": {"items": [{"title": "Reset your password"}], "confidence": 0.9},
    "generate_response": {"subject": "Password reset", "body": "Open Settings > Security."},
    "fallback_response": {"subject": "We are on it", "body": "Back within a day."},
    "send_response": {"ticket_id": "T-1"},
    "escalate": {"ticket_id": "T-2"},
}


def _by_state(step: RunStep) -> StepSucceeded:
    return StepSucceeded(step.seq, ANSWERS[step.key])


def test_a_confident_question_is_answered_from_the_knowledge_base() -> None:
    trace = drive("support-triage", _by_state, input=TICKET)
    assert trace.path == ["classify", "knowledge_search", "generate_response", "send_response"]
    assert trace.state.status == "succeeded"
    assert trace.state.output == {"ticket_id": "T-1"}
    assert trace.finish is not None and trace.finish.status == "succeeded"
    # the prompt and the input were interpolated from the run
    classify, search = trace.steps[0], trace.steps[1]
    assert classify.prompt == "Classify: How do I reset my password?"
    assert search.input == {"query": "How do I reset my password?", "limit": 5}
    assert [s.seq for s in trace.steps] == [1, 2, 3, 4]
    # the deadline was set once, from the workflow's 5m timeout
    assert [(t.kind, t.at_ms) for t in trace.timers] == [("deadline", 300_000)]


def test_an_unsure_answer_takes_the_default_transition() -> None:
    unsure = {**ANSWERS, "classify": {"intent": "question", "confidence": 0.4}}
    trace = drive("support-triage", lambda s: StepSucceeded(s.seq, unsure[s.key]), input=TICKET)
    assert trace.path == ["classify", "escalate"]
    assert trace.state.status == "succeeded"


def test_a_failed_step_is_retried_with_backoff_then_succeeds() -> None:
    failures = {"knowledge_search": 1}

    def answer(step: RunStep) -> StepSucceeded | StepFailed:
        if failures.get(step.key, 0) >= step.attempt:
            return StepFailed(step.seq, "timeout")
        return _by_state(step)

    trace = drive("support-triage", answer, input=TICKET)
    assert trace.path == [
        "classify",
        "knowledge_search",
        "knowledge_search",
        "generate_response",
        "send_response",
    ]
    assert [s.attempt for s in trace.steps[1:3]] == [1, 2]
    assert trace.steps[2].seq == trace.steps[1].seq + 1
    retry = [t for t in trace.timers if t.kind == "retry"]
    assert [(t.key, t.attempt, t.at_ms) for t in retry] == [("knowledge_search", 2, 500)]


def test_retries_exhausted_take_on_error() -> None:
    def answer(step: RunStep) -> StepSucceeded | StepFailed:
        if step.key == "knowledge_search":
            return StepFailed(step.seq, "connection refused")
        return _by_state(step)

    trace = drive("support-triage", answer, input=TICKET)
    assert trace.path == [
        "classify",
        "knowledge_search",
        "knowledge_search",
        "fallback_response",
        "send_response",
    ]
    assert trace.state.status == "succeeded"


def test_a_failure_without_on_error_fails_the_run() -> None:
    def answer(step: RunStep) -> StepSucceeded | StepFailed:
        if step.key == "send_response":
            return StepFailed(step.seq, "smtp down", retryable=False)
        return _by_state(step)

    trace = drive("support-triage", answer, input=TICKET)
    assert trace.state.status == "failed"
    assert trace.state.error == "smtp down"
    assert trace.finish is not None and trace.finish.error == "smtp down"


def test_an_input_that_does_not_interpolate_is_refused_not_called() -> None:
    trace = drive("support-triage", _by_state, input={"other": 1})
    classify = trace.steps[0]
    assert classify.refused is not None and "ticket" in classify.refused


def _started() -> tuple[Context, RunState]:
    plans = example_plans()
    ctx = Context(plans, ConditionEvaluator(("input", "output", "state", "env")), 1)
    fresh = RunState(run_id="r", workflow="support-triage", plan="support-triage", input=TICKET)
    return ctx, decide(ctx, fresh, Started()).state


def test_deadline_and_cancel_end_a_run_and_late_answers_change_nothing() -> None:
    ctx, running = _started()
    assert running.status == "running" and running.in_flight
    timed_out = decide(ctx, running, DeadlineReached()).state
    assert timed_out.status == "timed_out" and timed_out.finished
    late = decide(ctx, timed_out, StepSucceeded(running.in_flight[0].seq, {"x": 1}))
    assert late.state == timed_out and late.commands == ()
    cancelled = decide(ctx, running, CancelRequested("ana"))
    assert cancelled.state.status == "cancelled"
    assert cancelled.state.error == "cancelled by ana"


def test_an_answer_to_a_step_no_longer_in_flight_is_ignored() -> None:
    ctx, running = _started()
    stale = decide(ctx, running, StepSucceeded(99, {}))
    assert stale.state == running and stale.commands == ()
