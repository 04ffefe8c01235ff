"""The one decision function: (context, run state, event) → `Decision`.   (pure)

Cancels and the workflow's deadline end any unfinished run the same way whatever its planner;
everything else goes to the planner of the plan the run executes (`fsm`, `bt`, `llm`). A
finished run ignores every event, so a late or repeated one changes nothing.
"""

from __future__ import annotations

from agentflow.bundle.plan import BtPlan, FsmPlan
from agentflow.runtime.engine.bt import decide_bt
from agentflow.runtime.engine.context import Context
from agentflow.runtime.engine.fsm import decide_fsm
from agentflow.runtime.engine.llm import decide_llm
from agentflow.runtime.engine.run import (
    CancelRequested,
    DeadlineReached,
    Decision,
    Event,
    Finish,
    RunState,
    SetTimer,
    Started,
)


def decide(ctx: Context, state: RunState, event: Event) -> Decision:
    if state.finished:
        return Decision(state)
    if isinstance(event, CancelRequested):
        error = f"cancelled by {event.by}"
        done = state.evolve(
            status="cancelled", in_flight=(), retrying=(), waiting_for=None, error=error
        )
        return Decision(done, (Finish(status="cancelled", output=None, error=error),))
    if isinstance(event, DeadlineReached):
        plan = ctx.plans[state.workflow]
        error = f"the workflow's timeout ({plan.timeout_ms} ms) passed"
        done = state.evolve(
            status="timed_out", in_flight=(), retrying=(), waiting_for=None, error=error
        )
        return Decision(done, (Finish(status="timed_out", output=None, error=error),))
    plan = ctx.plans[state.plan]
    if isinstance(plan, FsmPlan):
        decision = decide_fsm(ctx, plan, state, event)
    elif isinstance(plan, BtPlan):
        decision = decide_bt(ctx, plan, state, event)
    else:
        decision = decide_llm(ctx, plan, state, event)
    if isinstance(event, Started):
        timeout = ctx.plans[state.workflow].timeout_ms
        if timeout is not None:
            deadline = SetTimer(kind="deadline", at_ms=ctx.now_ms + timeout)
            return Decision(decision.state, (deadline, *decision.commands))
    return decision
