"""Plan queries: what a plan reaches. Its step bindings, the (agent, tool) pairs ExecProfiles are
derived for, and a behavior tree's steps in order.
"""

from __future__ import annotations

from collections.abc import Iterator

from agentflow.bundle.plan import (
    ActionNode,
    Binding,
    BtPlan,
    BtPlanNode,
    ConditionalSelectorNode,
    FsmPlan,
    ParallelNode,
    Plan,
    SelectorNode,
    SequenceNode,
    Step,
)


def reachable_pairs(plan: Plan) -> frozenset[tuple[str, str | None]]:
    """Every (agent, tool) pair the plan can run, ``tool`` None for an agent's own work.

    A step with a tool reaches that pair; a step without one reaches the agent's own work and
    every tool the agent lists. A fallback's pairs belong to the fallback's own plan.
    """
    pairs: set[tuple[str, str | None]] = set()
    for binding in plan_bindings(plan):
        if binding.tool is not None:
            pairs.add((binding.agent, binding.tool))
        else:
            pairs.add((binding.agent, None))
            pairs.update((binding.agent, tool) for tool in binding.tools)
    return frozenset(pairs)


def plan_bindings(plan: Plan) -> Iterator[Binding]:
    """Every step binding of a plan, in plan order."""
    if isinstance(plan, FsmPlan):
        yield from (state.step.binding for state in plan.states if state.step is not None)
    elif isinstance(plan, BtPlan):
        yield from (step.binding for step in bt_steps(plan.root))
    else:
        yield plan.binding


def bt_steps(node: BtPlanNode) -> Iterator[Step]:
    """The steps of a behavior tree's actions, depth first."""
    if isinstance(node, ActionNode):
        yield node.step
    elif isinstance(node, SequenceNode | SelectorNode | ParallelNode):
        for child in node.children:
            yield from bt_steps(child)
    elif isinstance(node, ConditionalSelectorNode):
        for branch in node.branches:
            yield from bt_steps(branch.do)
