"""Cost preflight: a static estimate of what one run of each plan can spend.   AF612

Input: the compiled plans, the ExecProfiles they run under (``cost_per_call``, ``model``), the
`Index` (agent types and budgets) and the policies in force (``limits.overBudget``). Output: a
frozen `PlanCost` per workflow, by name, and AF612 where a plan's bounded worst case is more
than the budget of an agent it uses. docs/cost.md explains the figures; in short:

- One attempt of a step costs its tool's ``cost.perCall`` dollars and one tool call when it
  has a tool; without a tool, an ``llm`` agent's step costs its model's ``maxTokens`` tokens.
  Model tokens have no price in the source format, so they are counted, never priced.
- **worstCase**: every step at its effective ``maxAttempts`` (the plan's retry) and every
  branch, error edges included, at its most expensive. Each figure is a maximum over paths on
  its own, so together they bound any one run. A cycle an FSM run can reach makes the worst
  case unbounded, and `PlanCost` says so rather than invent a number.
- **typical**: one attempt per step, no errors, the first routing everywhere.

Dollars are `Decimal` throughout (a ``perCall`` is read through its shortest text, so
``0.001`` is exactly one thousandth); the JSON form rounds them up to 6 places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from graphlib import CycleError, TopologicalSorter
from types import MappingProxyType
from typing import Any, Final

from agentflow.bundle.plan import (
    ActionNode,
    BtPlan,
    BtPlanNode,
    ConditionalSelectorNode,
    ConditionNode,
    FsmPlan,
    LlmPlan,
    ParallelNode,
    Plan,
    SelectorNode,
    SequenceNode,
    Step,
)
from agentflow.bundle.profile import ExecProfile, profile_id
from agentflow.bundle.queries import plan_bindings
from agentflow.compiler.check.fsm import search_graph
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.codes import Severity
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.policy import PolicySpec

DOLLAR_PLACES: Final = Decimal("0.000001")
"""JSON dollars are rounded up to this, so a figure never reads lower than it is."""


@dataclass(frozen=True, slots=True)
class Spend:
    """What some work costs: dollars (tool calls), model tokens and tool calls."""

    dollars: Decimal = Decimal(0)
    tokens: int = 0
    tool_calls: int = 0

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.dollars + other.dollars,
            self.tokens + other.tokens,
            self.tool_calls + other.tool_calls,
        )

    def times(self, count: int) -> Spend:
        return Spend(self.dollars * count, self.tokens * count, self.tool_calls * count)

    def most(self, other: Spend) -> Spend:
        """Each figure's larger value: a bound on either."""
        return Spend(
            max(self.dollars, other.dollars),
            max(self.tokens, other.tokens),
            max(self.tool_calls, other.tool_calls),
        )

    def to_json(self) -> dict[str, Any]:
        dollars = self.dollars.quantize(DOLLAR_PLACES, rounding=ROUND_CEILING)
        return {
            "bounded": True,
            "dollars": float(dollars),
            "tokens": self.tokens,
            "toolCalls": self.tool_calls,
        }


NOTHING: Final = Spend()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanCost:
    """The static cost of one run of a plan; the bundle manifest embeds `to_json`."""

    workflow: str
    worst_case: Spend | None
    """None: unbounded (an FSM cycle a run can reach, or a fallback that has one)."""
    typical: Spend | None
    """None: unbounded (the first routing of the FSM loops)."""

    def to_json(self) -> dict[str, Any]:
        """``{"worstCase": FIGURES, "typical": FIGURES}``; FIGURES is ``{"bounded": false}``
        or ``{"bounded": true, "dollars": 0.0123, "tokens": 4096, "toolCalls": 6}``."""
        return {"worstCase": _figures(self.worst_case), "typical": _figures(self.typical)}


def _figures(spend: Spend | None) -> dict[str, Any]:
    return {"bounded": False} if spend is None else spend.to_json()


def preflight_costs(
    index: Index,
    plans: Mapping[str, Plan],
    profiles: Mapping[str, ExecProfile],
    policies: tuple[Resource[PolicySpec], ...],
    report: Report,
) -> Mapping[str, PlanCost]:
    """Every plan's `PlanCost`, by workflow name; AF612 for each budget a worst case exceeds."""
    estimator = _Estimator(index, plans, profiles)
    costs = {
        name: PlanCost(
            workflow=name, worst_case=estimator.worst(plan, ()), typical=estimator.typical(plan)
        )
        for name, plan in sorted(plans.items())
    }
    severity = over_budget_severity(policies)
    for name, cost in costs.items():
        if cost.worst_case is not None:
            agents = sorted({binding.agent for binding in plan_bindings(plans[name])})
            _check_budgets(index, name, cost.worst_case, agents, severity, report)
    return MappingProxyType(costs)


def over_budget_severity(policies: Iterable[Resource[PolicySpec]]) -> Severity:
    """``error`` when any policy in force sets ``limits.overBudget: error``: the strictest."""
    for policy in policies:
        limits = policy.spec.limits
        if limits is not None and limits.over_budget == "error":
            return "error"
    return "warning"


class _Estimator:
    """The two figures of each plan, from its steps' profiles."""

    def __init__(
        self, index: Index, plans: Mapping[str, Plan], profiles: Mapping[str, ExecProfile]
    ) -> None:
        self.index, self.plans, self.profiles = index, plans, profiles

    def attempt(self, step: Step) -> Spend:
        """One attempt of a step: its tool call, or its llm agent's model call."""
        binding = step.binding
        if binding.tool is not None:
            return self.tool_call(binding.profile)
        return self.model_call(binding.agent, binding.profile)

    def tool_call(self, profile: str) -> Spend:
        found = self.profiles.get(profile)
        per_call = found.cost_per_call if found is not None else None
        return Spend(dollars=_decimal(per_call), tool_calls=1)

    def model_call(self, agent_name: str, profile: str) -> Spend:
        agent = self.index.get("Agent", agent_name)
        found = self.profiles.get(profile)
        if agent is None or agent.spec.type != "llm" or found is None or found.model is None:
            return NOTHING
        return Spend(tokens=found.model.max_tokens or 0)

    def worst(self, plan: Plan, seen: tuple[str, ...]) -> Spend | None:
        """Every step at its max attempts, the costliest branch everywhere; None: unbounded."""
        if isinstance(plan, FsmPlan):
            return _fsm_worst(plan, lambda step: self.attempt(step).times(step.retry.max_attempts))
        if isinstance(plan, BtPlan):
            return _bt_worst(plan.root, self.attempt)
        return self._llm(plan, seen)

    def typical(self, plan: Plan) -> Spend | None:
        """One attempt per step, no errors, the first routing everywhere."""
        if isinstance(plan, FsmPlan):
            return _fsm_typical(plan, self.attempt)
        if isinstance(plan, BtPlan):
            return _bt_typical(plan.root, self.attempt)
        return self._decision(plan).times(plan.max_steps)

    def _decision(self, plan: LlmPlan) -> Spend:
        """One planner step: its model call and the costliest tool it may call."""
        binding = plan.binding
        tools = (self.tool_call(profile_id(binding.agent, tool)) for tool in binding.tools)
        costliest = NOTHING
        for tool in tools:
            costliest = costliest.most(tool)
        return self.model_call(binding.agent, binding.profile) + costliest

    def _llm(self, plan: LlmPlan, seen: tuple[str, ...]) -> Spend | None:
        profile = self.profiles.get(plan.binding.profile)
        attempts = profile.retry.max_attempts if profile is not None else 1
        planning = self._decision(plan).times(attempts * plan.max_steps)
        fallback = self.plans.get(plan.fallback) if plan.fallback is not None else None
        if fallback is None:
            return planning
        if fallback.name in seen or fallback.name == plan.name:
            return None  # fallbacks that fall back to each other (AF415 says they must not)
        after = self.worst(fallback, (*seen, plan.name))
        return None if after is None else planning + after


# --- FSM -----------------------------------------------------------------------------------


def _fsm_exits(plan: FsmPlan) -> dict[str, tuple[str, ...]]:
    """Each state's successors, error edges included; a run ends at a final state."""
    names = {state.name for state in plan.states}
    exits: dict[str, tuple[str, ...]] = {}
    for state in plan.states:
        targets = [t.target for t in state.transitions]
        if state.on_error is not None:
            targets.append(state.on_error)
        final = state.name in plan.finals
        exits[state.name] = () if final else tuple(t for t in dict.fromkeys(targets) if t in names)
    return exits


def _fsm_worst(plan: FsmPlan, cost: Callable[[Step], Spend]) -> Spend | None:
    """The costliest path from the initial state; None when a reachable cycle has no bound."""
    steps = {state.name: state.step for state in plan.states}
    if plan.initial not in steps:
        return NOTHING
    exits = _fsm_exits(plan)
    reached = search_graph([plan.initial], exits)
    # Successors as "predecessors": the static order then yields every state after its exits.
    sorter = TopologicalSorter({name: exits[name] for name in reached})
    try:
        order = tuple(sorter.static_order())
    except CycleError:
        return None
    worst: dict[str, Spend] = {}
    for name in order:
        after = NOTHING
        for target in exits[name]:
            after = after.most(worst[target])
        step = steps[name]
        worst[name] = (cost(step) if step is not None else NOTHING) + after
    return worst[plan.initial]


def _fsm_typical(plan: FsmPlan, attempt: Callable[[Step], Spend]) -> Spend | None:
    """The first transition of each state, once each; None when that routing loops."""
    states = {state.name: state for state in plan.states}
    total, visited, name = NOTHING, set[str](), plan.initial
    while name in states:
        if name in visited:
            return None
        visited.add(name)
        state = states[name]
        if state.step is not None:  # an approval state costs nothing
            total += attempt(state.step)
        if name in plan.finals or not state.transitions:
            break
        name = state.transitions[0].target
    return total


# --- BT ------------------------------------------------------------------------------------


def _bt_worst(node: BtPlanNode, attempt: Callable[[Step], Spend]) -> Spend:
    """Sequence, parallel and selector: every child (a selector tries each until one succeeds);
    conditional_selector: the costliest branch (exactly one runs)."""
    if isinstance(node, ActionNode):
        return attempt(node.step).times(node.step.retry.max_attempts)
    if isinstance(node, ConditionNode):
        return NOTHING
    if isinstance(node, ConditionalSelectorNode):
        costliest = NOTHING
        for branch in node.branches:
            costliest = costliest.most(_bt_worst(branch.do, attempt))
        return costliest
    return _sum(_bt_worst(child, attempt) for child in node.children)


def _bt_typical(node: BtPlanNode, attempt: Callable[[Step], Spend]) -> Spend:
    """Every action once; a selector's first child succeeds, a conditional_selector's first
    branch holds; a parallel runs all its children."""
    if isinstance(node, ActionNode):
        return attempt(node.step)
    if isinstance(node, ConditionNode):
        return NOTHING
    if isinstance(node, ConditionalSelectorNode):
        return _bt_typical(node.branches[0].do, attempt) if node.branches else NOTHING
    if isinstance(node, SelectorNode):
        return _bt_typical(node.children[0], attempt) if node.children else NOTHING
    assert isinstance(node, SequenceNode | ParallelNode)
    return _sum(_bt_typical(child, attempt) for child in node.children)


def _sum(spends: Iterable[Spend]) -> Spend:
    total = NOTHING
    for spend in spends:
        total += spend
    return total


def _decimal(value: float | None) -> Decimal:
    """A YAML number as the decimal its shortest text says (``0.001``, not its binary double)."""
    return Decimal(0) if value is None else Decimal(repr(value))


def format_dollars(value: Decimal) -> str:
    """``$0.0123``, ``$0.80``: exact, at least to the cent, without an exponent."""
    exact = value.normalize()
    if int(exact.as_tuple().exponent) > -2:
        exact = value.quantize(Decimal("0.01"))
    return f"${exact:f}"


# --- budgets -------------------------------------------------------------------------------


def _check_budgets(
    index: Index,
    workflow: str,
    worst: Spend,
    agents: Iterable[str],
    severity: Severity,
    report: Report,
) -> None:
    """AF612 at each budget figure a bounded worst case is above."""
    for name in agents:
        agent = index.get("Agent", name)
        budget = agent.spec.budget if agent is not None else None
        if agent is None or budget is None:
            continue
        over: list[tuple[str, str, str]] = []
        if budget.dollars is not None and worst.dollars > _decimal(budget.dollars):
            spent = f"{format_dollars(worst.dollars)} ({worst.tool_calls} tool calls)"
            over.append(("dollars", spent, format_dollars(_decimal(budget.dollars))))
        if budget.tokens is not None and worst.tokens > budget.tokens:
            over.append(("tokens", f"{worst.tokens} tokens", f"{budget.tokens} tokens"))
        for field, spent, allowed in over:
            report.add(
                codes.OVER_BUDGET,
                agent.file,
                agent.doc.span(("spec", "budget", field)),
                f"one run of workflow '{workflow}' can spend {spent} at worst, more than the "
                f"budget of agent '{name}': {allowed} per {budget.period}",
                hint=f"raise spec.budget.{field}, or lower the retries, steps or tool calls of "
                f"workflow '{workflow}'",
                severity=severity,
            )
