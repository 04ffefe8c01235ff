"""A scenario's expected path and status, against the plan it runs.   (part of AF910)

Input: a compiled plan (and the plans its fallback may name), the path and status a Scenario
expects, and the states the scenario decides approvals for. Output: the first `PathProblem`, or
None. The names a path holds are what `af run` prints as a step's ``state``
(`agentflow.bundle.scenario`):

- FSM: states, starting at the initial state; each next one is a target of the state's
  transitions (``on_success`` is its default transition) or its ``on_error``; a state repeats
  for a retry while its step has attempts left (``retry.maxAttempts``). A final state ends a run
  that succeeds there, so only its ``on_error`` or a retry follows it. A run goes past an
  approval state by a decision the scenario gives, or by its ``on_error`` (a timeout).
- BT: each element is an action's ``agent``, or ``agent/tool`` for an action with a tool.
- LLM: the planner agent's name, then, after a fallback, a walk of the fallback FSM.

The status must agree with where the path ends: ``succeeded`` at a final state (or after an
LLM plan's one planner turn), ``waiting`` at an approval state the scenario does not decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agentflow.bundle.plan import BtPlan, FsmPlan, LlmPlan, Plan, StatePlan
from agentflow.bundle.queries import bt_steps
from agentflow.compiler.diagnostics.suggest import did_you_mean


@dataclass(frozen=True, slots=True)
class PathProblem:
    index: int | None
    """The element of the path at fault; None: the status (or the path as a whole)."""
    message: str
    hint: str | None = None


def action_name(agent: str, tool: str | None) -> str:
    """A behavior-tree action as a path names it: ``agent`` or ``agent/tool``."""
    return agent if tool is None else f"{agent}/{tool}"


def check_path(
    plan: Plan,
    plans: Mapping[str, Plan],
    path: tuple[str, ...] | None,
    status: str,
    decided: frozenset[str],
) -> PathProblem | None:
    """The first reason ``path`` and ``status`` are not a run of ``plan``; None when they are."""
    if isinstance(plan, FsmPlan):
        return _fsm_run(plan, path, status, decided, 0)
    if isinstance(plan, BtPlan):
        return _bt_run(plan, path, status)
    return _llm_run(plan, plans, path, status, decided)


def _fsm_run(
    plan: FsmPlan, path: tuple[str, ...] | None, status: str, decided: frozenset[str], at: int
) -> PathProblem | None:
    """``path`` (its elements numbered from ``at``) as a run of an FSM plan, and its end."""
    states = {state.name: state for state in plan.states}
    if path is None:
        if status == "waiting" and not any(s.approval is not None for s in plan.states):
            return PathProblem(None, f"workflow '{plan.name}' has no approval state to wait at")
        return None
    for i, name in enumerate(path):
        if name not in states:
            return PathProblem(
                at + i,
                f"'{name}' is not a state of workflow '{plan.name}'",
                did_you_mean(name, states),
            )
    if path and path[0] != plan.initial:
        return PathProblem(
            at, f"a run of '{plan.name}' starts at '{plan.initial}', not at '{path[0]}'"
        )
    problem = _walk(plan, states, path, decided, at)
    if problem is not None:
        return problem
    return _fsm_end(plan, states, path, status, decided, at)


def _walk(
    plan: FsmPlan,
    states: Mapping[str, StatePlan],
    path: tuple[str, ...],
    decided: frozenset[str],
    at: int,
) -> PathProblem | None:
    attempts = {1}
    """The attempts the current element may be (a self-transition starts again at 1)."""
    for i in range(1, len(path)):
        previous, state, name = path[i - 1], states[path[i - 1]], path[i]
        following: set[int] = set()
        limit = state.step.retry.max_attempts if state.step is not None else 1
        if name == previous:
            following |= {a + 1 for a in attempts if a < limit}
        routes = _routes(plan, state, previous in decided)
        if name in routes:
            following.add(1)
        if not following:
            return PathProblem(at + i, *_no_route(plan, state, name, routes, limit, decided))
        attempts = following
    return None


def _routes(plan: FsmPlan, state: StatePlan, decided: bool) -> tuple[str, ...]:
    """Where a run goes from ``state``: its transitions (not from a final state, where a run
    that succeeds ends, nor from an approval state nobody decides) and its on_error."""
    routes = []
    waits = state.approval is not None and not decided
    if state.name not in plan.finals and not waits:
        routes += [t.target for t in state.transitions]
    if state.on_error is not None:
        routes.append(state.on_error)
    return tuple(dict.fromkeys(routes))


def _no_route(
    plan: FsmPlan,
    state: StatePlan,
    name: str,
    routes: tuple[str, ...],
    limit: int,
    decided: frozenset[str],
) -> tuple[str, str | None]:
    going = ", ".join(f"'{r}'" for r in routes) or "nowhere"
    if name == state.name and state.step is not None:
        return (
            f"state '{name}' runs at most {limit} attempt{'s' if limit != 1 else ''} "
            "(its retry's maxAttempts), so it cannot run again here",
            f"from '{name}' a run goes to {going}",
        )
    if state.approval is not None and state.name not in decided:
        targets = {t.target for t in state.transitions}
        if name in targets:
            return (
                f"the run waits at approval state '{state.name}': the scenario gives no "
                f"decision for it, so it cannot go on to '{name}'",
                f"add approvals: {{{state.name}: {{approved: true, approver: …, comment: …}}}}",
            )
    if state.name in plan.finals:
        return (
            f"'{state.name}' is a final state: a run that succeeds there ends, so it cannot "
            f"go on to '{name}'",
            "after a final state only a retry or its on_error follows"
            + (f" ({going})" if routes else ", and it has no on_error"),
        )
    return (
        f"no transition, on_success or on_error of '{state.name}' leads to '{name}'",
        f"from '{state.name}' a run goes to {going}",
    )


def _fsm_end(
    plan: FsmPlan,
    states: Mapping[str, StatePlan],
    path: tuple[str, ...],
    status: str,
    decided: frozenset[str],
    at: int,
) -> PathProblem | None:
    last = path[-1] if path else None
    where = at + len(path) - 1 if path else None
    if status == "succeeded" and last not in plan.finals:
        finals = ", ".join(f"'{f}'" for f in plan.finals)
        return PathProblem(
            where,
            f"a run of '{plan.name}' succeeds only at a final state ({finals})"
            + (f", and '{last}' is not one" if last is not None else ""),
        )
    if status == "waiting":
        state = states.get(last) if last is not None else None
        if state is None or state.approval is None:
            return PathProblem(
                where,
                "a run waits only at an approval state"
                + (f", and '{last}' is not one" if last is not None else ""),
            )
        if last in decided:
            return PathProblem(
                where,
                f"the scenario decides approval state '{last}', so the run does not wait there",
                f"remove '{last}' from approvals, or expect the run to go on",
            )
    return None


def _bt_run(plan: BtPlan, path: tuple[str, ...] | None, status: str) -> PathProblem | None:
    if status == "waiting":
        return PathProblem(None, "a behavior tree has no approval states, so its runs never wait")
    actions = {action_name(s.binding.agent, s.binding.tool) for s in bt_steps(plan.root)}
    for i, name in enumerate(path or ()):
        if name not in actions:
            return PathProblem(
                i,
                f"'{name}' is not an action of workflow '{plan.name}' (agent, or agent/tool)",
                did_you_mean(name, actions),
            )
    return None


def _llm_run(
    plan: LlmPlan,
    plans: Mapping[str, Plan],
    path: tuple[str, ...] | None,
    status: str,
    decided: frozenset[str],
) -> PathProblem | None:
    planner = plan.binding.agent
    fallback = plans.get(plan.fallback) if plan.fallback is not None else None
    if path is None or (path == (planner,) and status != "waiting"):
        if path is None and status == "waiting" and isinstance(fallback, FsmPlan):
            return _fsm_run(fallback, None, status, decided, 1)
        if status == "waiting":
            return PathProblem(None, "a run waits only at an approval state of the fallback")
        return None
    if not path or path[0] != planner:
        first = repr(path[0]) if path else "nothing"
        return PathProblem(
            0 if path else None,
            f"a run of '{plan.name}' starts with a turn of its planner '{planner}', not {first}",
        )
    if len(path) == 1:
        return PathProblem(None, "a run waits only at an approval state of the fallback")
    if not isinstance(fallback, FsmPlan):
        return PathProblem(
            1,
            f"workflow '{plan.name}' has no fallback, so a run of it is one turn of its planner",
        )
    return _fsm_run(fallback, path[1:], status, decided, 1)
