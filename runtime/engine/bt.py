"""Behavior-tree plans, by replay: each decision ticks the tree over the outcomes recorded so far.

A tick walks the tree from the root in a fixed order, with ``output`` threaded through as the
last action's output before each node (in sequence order, as the compiler typed it). An action
with an outcome succeeds or fails by it; one without is dispatched (unless it is running or
waiting for its retry), and the node is running. So the tree's state is only the outcomes, and
replaying them gives the same dispatches every time.

- ``sequence``: children in order; stops at the first that fails or is running.
- ``selector``: children in order; the first that succeeds wins.
- ``parallel``: every child at once. ``all_success`` succeeds when all do (output: the last
  child's) and fails as soon as one fails; ``one_success`` succeeds as soon as one does (output:
  the first in order that did) and fails when all do.
- ``condition``: succeeds when its ``when`` holds, passing ``output`` on; fails otherwise.
- ``conditional_selector``: the first branch whose ``when`` holds (or the default) runs.

A step's id is its path of child indexes (``0.2.1``), its name ``agent`` or ``agent/tool``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agentflow.bundle.conditions import ConditionError
from agentflow.bundle.plan import (
    MAX_TREE_DEPTH,
    ActionNode,
    Binding,
    BtPlan,
    BtPlanNode,
    Condition,
    ConditionalSelectorNode,
    ConditionNode,
    ParallelNode,
    SelectorNode,
    SequenceNode,
    Step,
)
from agentflow.bundle.scenario import RunStatus
from agentflow.runtime.engine.backoff import retry_delay_ms
from agentflow.runtime.engine.context import Context, step_command
from agentflow.runtime.engine.run import (
    Attempt,
    Command,
    Decision,
    Event,
    Finish,
    Outcome,
    RetryDue,
    RunState,
    SetTimer,
    Started,
    StepFailed,
    StepSucceeded,
    with_item,
)
from agentflow.runtime.engine.values import Json


@dataclass(frozen=True, slots=True)
class _Tick:
    status: Literal["success", "failure", "running"]
    output: Json = None
    ready: tuple[tuple[str, Step, Json], ...] = ()
    """Actions to dispatch now: (id, step, the ``output`` it sees)."""


def step_name(binding: Binding) -> str:
    """A behavior-tree step's name: ``agent``, or ``agent/tool``."""
    return binding.agent if binding.tool is None else f"{binding.agent}/{binding.tool}"


def decide_bt(ctx: Context, plan: BtPlan, state: RunState, event: Event) -> Decision:
    if isinstance(event, StepSucceeded | StepFailed):
        attempt = next((a for a in state.in_flight if a.seq == event.seq), None)
        if attempt is None:
            return Decision(state)  # an answer to a step the tree no longer waits for
        step = _steps(plan)[attempt.key]
        rest = tuple(a for a in state.in_flight if a.seq != event.seq)
        if isinstance(event, StepSucceeded):
            name = step_name(step.binding)
            state = state.evolve(
                in_flight=rest,
                outcomes=with_item(
                    state.outcomes, attempt.key, Outcome(ok=True, output=event.output)
                ),
                context=with_item(state.context, name, event.output),
                last_output=event.output,
            )
        elif event.retryable and attempt.attempt < step.retry.max_attempts:
            delay = retry_delay_ms(step.retry, attempt.attempt, state.run_id, event.seq)
            again = attempt.attempt + 1
            waiting = state.evolve(in_flight=rest, retrying=(*state.retrying, (attempt.key, again)))
            timer = SetTimer(kind="retry", at_ms=ctx.now_ms + delay, key=attempt.key, attempt=again)
            return Decision(waiting, (timer,))
        else:
            failed = Outcome(ok=False, output=None)
            state = state.evolve(
                in_flight=rest,
                outcomes=with_item(state.outcomes, attempt.key, failed),
                error=event.error,
            )
    elif isinstance(event, RetryDue):
        if (event.key, event.attempt) not in state.retrying:
            return Decision(state)
        state = state.evolve(retrying=tuple(r for r in state.retrying if r[0] != event.key))
    elif not isinstance(event, Started):
        return Decision(state)
    return _advance(ctx, plan, state)


def _steps(plan: BtPlan) -> dict[str, Step]:
    """Every action's step, by id."""
    found: dict[str, Step] = {}

    def walk(node: BtPlanNode, key: str, depth: int) -> None:
        if depth > MAX_TREE_DEPTH:
            return
        if isinstance(node, ActionNode):
            found[key] = node.step
        elif isinstance(node, SequenceNode | SelectorNode | ParallelNode):
            for i, child in enumerate(node.children):
                walk(child, f"{key}.{i}", depth + 1)
        elif isinstance(node, ConditionalSelectorNode):
            for i, branch in enumerate(node.branches):
                walk(branch.do, f"{key}.{i}", depth + 1)

    walk(plan.root, "0", 0)
    return found


def _advance(ctx: Context, plan: BtPlan, state: RunState) -> Decision:
    try:
        tick = _Ticker(ctx, state).tick(plan.root, "0", None, 0)
    except ConditionError as error:
        return _finish(state, "failed", None, f"a condition cannot be evaluated: {error}")
    if tick.status == "success":
        return _finish(state.evolve(error=None), "succeeded", tick.output, None)
    if tick.status == "failure":
        return _finish(state, "failed", None, state.error or "the behavior tree failed")
    commands: list[Command] = []
    seq, in_flight, attempts = state.seq, list(state.in_flight), dict(state.attempts)
    for key, step, output in tick.ready:
        seq += 1
        attempt = attempts[key] = attempts.get(key, 0) + 1
        commands.append(
            step_command(
                state.evolve(last_output=output),
                step,
                seq=seq,
                attempt=attempt,
                key=key,
                name=step_name(step.binding),
                plan=plan.name,
            )
        )
        in_flight.append(Attempt(seq=seq, attempt=attempt, key=key, plan=plan.name))
    running = state.evolve(
        status="running",
        seq=seq,
        in_flight=tuple(in_flight),
        attempts=tuple(sorted(attempts.items())),
    )
    return Decision(running, tuple(commands))


def _finish(state: RunState, status: RunStatus, output: Json, error: str | None) -> Decision:
    done = state.evolve(status=status, output=output, error=error)
    return Decision(done, (Finish(status=status, output=output, error=error),))


class _Ticker:
    """One tick over the recorded outcomes; pure."""

    def __init__(self, ctx: Context, state: RunState) -> None:
        self.ctx, self.state = ctx, state
        self.outcomes = dict(state.outcomes)
        self.busy = {a.key for a in state.in_flight} | {key for key, _ in state.retrying}

    def tick(self, node: BtPlanNode, key: str, last: Json, depth: int) -> _Tick:
        if depth > MAX_TREE_DEPTH:
            return _Tick("failure")
        if isinstance(node, ActionNode):
            outcome = self.outcomes.get(key)
            if outcome is not None:
                return _Tick("success" if outcome.ok else "failure", outcome.output)
            if key in self.busy:
                return _Tick("running")
            return _Tick("running", ready=((key, node.step, last),))
        if isinstance(node, ConditionNode):
            holds = self._holds(node.condition, last)
            return _Tick("success" if holds else "failure", last)
        if isinstance(node, SequenceNode):
            output = last
            for i, child in enumerate(node.children):
                tick = self.tick(child, f"{key}.{i}", output, depth + 1)
                if tick.status != "success":
                    return tick
                output = tick.output
            return _Tick("success", output)
        if isinstance(node, SelectorNode):
            for i, child in enumerate(node.children):
                tick = self.tick(child, f"{key}.{i}", last, depth + 1)
                if tick.status != "failure":
                    return tick
            return _Tick("failure")
        if isinstance(node, ParallelNode):
            ticks = [
                self.tick(c, f"{key}.{i}", last, depth + 1) for i, c in enumerate(node.children)
            ]
            return _parallel(node.policy, ticks)
        for i, branch in enumerate(node.branches):
            if branch.when is None or self._holds(branch.when, last):
                return self.tick(branch.do, f"{key}.{i}", last, depth + 1)
        return _Tick("failure")

    def _holds(self, condition: Condition, last: Json) -> bool:
        scope = self.state.evolve(last_output=last).scope()
        return self.ctx.conditions.evaluate(condition.checked, scope)


def _parallel(policy: str, ticks: list[_Tick]) -> _Tick:
    ready = tuple(item for tick in ticks for item in tick.ready)
    if policy == "all_success":
        if any(t.status == "failure" for t in ticks):
            return _Tick("failure")
        if all(t.status == "success" for t in ticks):
            return _Tick("success", ticks[-1].output if ticks else None)
        return _Tick("running", ready=ready)
    won = next((t for t in ticks if t.status == "success"), None)
    if won is not None:
        return _Tick("success", won.output)
    if all(t.status == "failure" for t in ticks):
        return _Tick("failure")
    return _Tick("running", ready=ready)
