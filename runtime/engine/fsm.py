"""FSM plans: one state at a time; first matching transition wins; ``on_error`` on failure.

A state's step runs; on success its output becomes ``output`` and ``state.<name>``, and the
transitions are tried in order (a final state ends the run instead). On failure the step is
retried by its retry policy, then the run goes to ``on_error`` or fails. An approval state waits
for a person instead of running a step; its output is the decision, and a timeout takes
``on_error``. A condition that cannot be evaluated is a failure of the state it routes from.
"""

from __future__ import annotations

from agentflow.bundle.conditions import ConditionError
from agentflow.bundle.plan import FsmPlan, StatePlan
from agentflow.runtime.engine.backoff import retry_delay_ms
from agentflow.runtime.engine.context import Context, step_command
from agentflow.runtime.engine.run import (
    ApprovalExpired,
    ApprovalGiven,
    Attempt,
    AwaitApproval,
    Decision,
    Event,
    Finish,
    RetryDue,
    RunState,
    SetTimer,
    Started,
    StepFailed,
    StepSucceeded,
    with_item,
)
from agentflow.runtime.engine.values import Json


def decide_fsm(ctx: Context, plan: FsmPlan, state: RunState, event: Event) -> Decision:
    if isinstance(event, Started):
        return _enter(ctx, plan, state, plan.initial)
    if isinstance(event, StepSucceeded) and _current(state, event.seq):
        return _succeeded(ctx, plan, state, event.output)
    if isinstance(event, StepFailed) and _current(state, event.seq):
        return _failed(ctx, plan, state, event)
    if isinstance(event, RetryDue) and (event.key, event.attempt) in state.retrying:
        if event.key == state.position:
            return _dispatch(plan, state.evolve(retrying=()), event.attempt)
    if isinstance(event, ApprovalGiven) and event.state == state.waiting_for:
        decision = {
            "approved": event.approved,
            "approver": event.approver,
            "comment": event.comment,
        }
        return _succeeded(ctx, plan, state.evolve(waiting_for=None, status="running"), decision)
    if isinstance(event, ApprovalExpired) and event.state == state.waiting_for:
        waited = state.evolve(waiting_for=None, status="running", in_flight=())
        return _after_failure(ctx, plan, waited, f"approval of '{event.state}' timed out")
    return Decision(state)


def _current(state: RunState, seq: int) -> bool:
    return any(a.seq == seq for a in state.in_flight)


def _state(plan: FsmPlan, name: str) -> StatePlan:
    return next(s for s in plan.states if s.name == name)


def _enter(ctx: Context, plan: FsmPlan, state: RunState, name: str) -> Decision:
    target = _state(plan, name)
    moved = state.evolve(position=name, attempt=0, status="running")
    if target.approval is None:
        return _dispatch(plan, moved, 1)
    seq = state.seq + 1
    approval = target.approval
    waiting = moved.evolve(
        seq=seq,
        attempt=1,
        status="waiting",
        waiting_for=name,
        in_flight=(Attempt(seq=seq, attempt=1, key=name, plan=plan.name),),
    )
    commands: list[AwaitApproval | SetTimer] = [
        AwaitApproval(seq=seq, state=name, role=approval.role, prompt=approval.prompt)
    ]
    if approval.timeout_ms is not None:
        commands.append(SetTimer(kind="approval", at_ms=ctx.now_ms + approval.timeout_ms, key=name))
    return Decision(waiting, tuple(commands))


def _dispatch(plan: FsmPlan, state: RunState, attempt: int) -> Decision:
    assert state.position is not None
    target = _state(plan, state.position)
    assert target.step is not None
    seq = state.seq + 1
    command = step_command(
        state,
        target.step,
        seq=seq,
        attempt=attempt,
        key=target.name,
        name=target.name,
        plan=plan.name,
    )
    running = state.evolve(
        seq=seq,
        attempt=attempt,
        status="running",
        in_flight=(Attempt(seq=seq, attempt=attempt, key=target.name, plan=plan.name),),
    )
    return Decision(running, (command,))


def _succeeded(ctx: Context, plan: FsmPlan, state: RunState, output: Json) -> Decision:
    assert state.position is not None
    name = state.position
    done = state.evolve(
        in_flight=(), context=with_item(state.context, name, output), last_output=output
    )
    if name in plan.finals:
        finished = done.evolve(status="succeeded", output=output)
        return Decision(finished, (Finish(status="succeeded", output=output, error=None),))
    try:
        target = next(
            (t.target for t in _state(plan, name).transitions if ctx.holds(t.condition, done)),
            None,
        )
    except ConditionError as error:
        return _after_failure(
            ctx, plan, done, f"a transition of '{name}' cannot be evaluated: {error}"
        )
    if target is None:
        return _after_failure(ctx, plan, done, f"no transition of '{name}' matched its output")
    return _enter(ctx, plan, done, target)


def _failed(ctx: Context, plan: FsmPlan, state: RunState, event: StepFailed) -> Decision:
    assert state.position is not None
    target = _state(plan, state.position)
    retry = target.step.retry if target.step is not None else None
    if event.retryable and retry is not None and state.attempt < retry.max_attempts:
        delay = retry_delay_ms(retry, state.attempt, state.run_id, event.seq)
        next_attempt = state.attempt + 1
        waiting = state.evolve(in_flight=(), retrying=((target.name, next_attempt),))
        timer = SetTimer(
            kind="retry", at_ms=ctx.now_ms + delay, key=target.name, attempt=next_attempt
        )
        return Decision(waiting, (timer,))
    return _after_failure(ctx, plan, state.evolve(in_flight=()), event.error)


def _after_failure(ctx: Context, plan: FsmPlan, state: RunState, error: str) -> Decision:
    """The state failed for good: go to its ``on_error``, else the run fails."""
    assert state.position is not None
    on_error = _state(plan, state.position).on_error
    if on_error is not None:
        return _enter(ctx, plan, state, on_error)
    failed = state.evolve(status="failed", error=error)
    return Decision(failed, (Finish(status="failed", output=None, error=error),))
