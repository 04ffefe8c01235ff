"""LLM planner plans: the planner agent decides, within its bounds, or the run falls back.

One planner turn is one step: the planner agent is called with the workflow input, its tools
offered as functions (each call it makes runs under its own ExecProfile), for at most
``maxSteps`` model calls, and must answer JSON matching the planner's ``outputSchema`` with a
``decision`` among ``allowedDecisions``. That answer is the run's output. An answer outside the
allowed decisions, a failed turn, or running out of model calls hands the run to the ``fallback``
FSM plan (recorded with its reason by `FallBack`); without a fallback the run fails.
"""

from __future__ import annotations

from agentflow.bundle.plan import FsmPlan, LlmPlan
from agentflow.runtime.engine.context import Context
from agentflow.runtime.engine.fsm import decide_fsm
from agentflow.runtime.engine.run import (
    Attempt,
    Decision,
    Event,
    FallBack,
    Finish,
    RunState,
    RunStep,
    Started,
    StepFailed,
    StepSucceeded,
    with_item,
)
from agentflow.runtime.engine.values import render_text

PLANNER_KEY = "planner"


def decide_llm(ctx: Context, plan: LlmPlan, state: RunState, event: Event) -> Decision:
    if isinstance(event, Started):
        return _turn(plan, state)
    current = any(a.seq == getattr(event, "seq", None) for a in state.in_flight)
    if isinstance(event, StepSucceeded) and current:
        output = event.output
        decision = output.get("decision") if isinstance(output, dict) else None
        if decision not in plan.allowed_decisions:
            allowed = ", ".join(plan.allowed_decisions)
            return _fall_back(
                ctx, plan, state, f"the planner decided {decision!r}, not one of {allowed}"
            )
        name = plan.binding.agent
        done = state.evolve(
            in_flight=(),
            status="succeeded",
            output=output,
            last_output=output,
            context=with_item(state.context, name, output),
        )
        return Decision(done, (Finish(status="succeeded", output=output, error=None),))
    if isinstance(event, StepFailed) and current:
        return _fall_back(ctx, plan, state, f"planning failed: {event.error}")
    return Decision(state)


def _turn(plan: LlmPlan, state: RunState) -> Decision:
    seq = state.seq + 1
    prompt = render_text(plan.prompt, state.scope()) if plan.prompt is not None else None
    command = RunStep(
        seq=seq,
        attempt=1,
        key=PLANNER_KEY,
        name=plan.binding.agent,
        plan=plan.name,
        binding=plan.binding,
        prompt=prompt,
        input=state.input,
        output_schema=plan.output_schema,
        timeout_ms=None,
        planning=plan.allowed_decisions,
        max_rounds=plan.max_steps,
        temperature=plan.temperature,
    )
    running = state.evolve(
        seq=seq,
        status="running",
        in_flight=(Attempt(seq=seq, attempt=1, key=PLANNER_KEY, plan=plan.name),),
    )
    return Decision(running, (command,))


def _fall_back(ctx: Context, plan: LlmPlan, state: RunState, reason: str) -> Decision:
    fallback = ctx.plans.get(plan.fallback) if plan.fallback is not None else None
    if not isinstance(fallback, FsmPlan):
        failed = state.evolve(in_flight=(), status="failed", error=reason)
        return Decision(failed, (Finish(status="failed", output=None, error=reason),))
    moved = state.evolve(in_flight=(), plan=fallback.name, fell_back=True)
    decision = decide_fsm(ctx, fallback, moved, Started())
    return Decision(
        decision.state, (FallBack(plan=fallback.name, reason=reason), *decision.commands)
    )
