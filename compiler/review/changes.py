"""What changed between two plans of one workflow, as `Change`s a reviewer can read.   (af diff)

Input: the base and head `Plan` of a workflow. Output: changes in plan order: FSM states and
transitions added and removed, conditions changed (old → new expression, when the routing is
the same), bindings, error edges, retries, timeouts, prompts, inputs and schemas; behavior-tree
nodes by their position in the tree; an LLM planner's settings.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentflow.bundle.plan import (
    ActionNode,
    Branch,
    BtPlan,
    BtPlanNode,
    ConditionalSelectorNode,
    ConditionNode,
    FsmPlan,
    LlmPlan,
    ParallelNode,
    Plan,
    RetryPlan,
    SelectorNode,
    SequenceNode,
    StatePlan,
    Step,
)
from agentflow.compiler.review.draw import does, who


@dataclass(frozen=True, slots=True)
class Change:
    where: str
    """``state classify``, ``classify → knowledge_search``, ``root.children[1]``."""
    what: str
    """``condition``, ``binding``, ``state added``, ``transition removed``, ``retry``…"""
    old: str | None
    new: str | None


def plan_changes(old: Plan, new: Plan) -> Iterator[Change]:
    if old.planner != new.planner:
        yield Change("plan", "planner", old.planner, new.planner)
        return
    if old.timeout_ms != new.timeout_ms:
        yield Change("plan", "workflow timeout", _ms(old.timeout_ms), _ms(new.timeout_ms))
    if old.input_schema != new.input_schema:
        yield Change("plan", "input schema", old.input_schema, new.input_schema)
    if isinstance(old, FsmPlan) and isinstance(new, FsmPlan):
        yield from _fsm_changes(old, new)
    elif isinstance(old, BtPlan) and isinstance(new, BtPlan):
        yield from _bt_changes(old.root, new.root, "root")
    elif isinstance(old, LlmPlan) and isinstance(new, LlmPlan):
        yield from _entries_changes(_llm_entries(old), _llm_entries(new))


def _fsm_changes(old: FsmPlan, new: FsmPlan) -> Iterator[Change]:
    if old.initial != new.initial:
        yield Change("plan", "initial state", old.initial, new.initial)
    if old.finals != new.finals:
        yield Change("plan", "final states", ", ".join(old.finals), ", ".join(new.finals))
    before = {s.name: s for s in old.states}
    after = {s.name: s for s in new.states}
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if was is None and now is not None:
            yield Change(f"state {name}", "state added", None, does(now))
            yield from (
                Change(f"{name} → {t.target}", "transition added", None, _guard(t.condition))
                for t in now.transitions
            )
        elif now is None and was is not None:
            yield Change(f"state {name}", "state removed", does(was), None)
        elif was is not None and now is not None:
            yield from _state_changes(was, now)


def _state_changes(old: StatePlan, new: StatePlan) -> Iterator[Change]:
    where = f"state {old.name}"
    if old.step is not None and new.step is not None:
        yield from _step_changes(where, old.step, new.step)
    elif old.step is not None or new.step is not None:
        yield Change(where, "now does", does(old), does(new))
    elif old.approval != new.approval:
        assert old.approval is not None and new.approval is not None
        if old.approval.role != new.approval.role:
            yield Change(where, "approver role", old.approval.role, new.approval.role)
        if old.approval.timeout_ms != new.approval.timeout_ms:
            yield Change(
                where,
                "approval timeout",
                _ms(old.approval.timeout_ms),
                _ms(new.approval.timeout_ms),
            )
        if old.approval.prompt != new.approval.prompt:
            yield Change(where, "prompt", old.approval.prompt, new.approval.prompt)
    if old.on_error != new.on_error:
        yield Change(where, "error edge", old.on_error, new.on_error)
    if [t.target for t in old.transitions] == [t.target for t in new.transitions]:
        for was, now in zip(old.transitions, new.transitions, strict=True):
            if _source(was.condition) != _source(now.condition):
                yield Change(
                    f"{old.name} → {now.target}",
                    "condition",
                    _guard(was.condition),
                    _guard(now.condition),
                )
        return
    before = [(t.target, _source(t.condition)) for t in old.transitions]
    after = [(t.target, _source(t.condition)) for t in new.transitions]
    for target, source in before:
        if (target, source) not in after:
            yield Change(
                f"{old.name} → {target}", "transition removed", source or "(default)", None
            )
    for target, source in after:
        if (target, source) not in before:
            yield Change(f"{old.name} → {target}", "transition added", None, source or "(default)")


def _step_changes(where: str, old: Step, new: Step) -> Iterator[Change]:
    if old.binding != new.binding:
        yield Change(where, "binding", who(old.binding), who(new.binding))
    if old.timeout_ms != new.timeout_ms:
        yield Change(where, "timeout", _ms(old.timeout_ms), _ms(new.timeout_ms))
    if old.retry != new.retry:
        yield Change(where, "retry", _retry(old.retry), _retry(new.retry))
    for label, was, now in (
        ("prompt", old.prompt, new.prompt),
        ("input", old.input, new.input),
        ("output schema", old.output_schema, new.output_schema),
    ):
        if was != now:
            yield Change(where, label, was, now)


def _bt_changes(old: BtPlanNode, new: BtPlanNode, path: str) -> Iterator[Change]:
    """Two trees compared node by node; children are aligned by what they are (difflib), so a
    node inserted early is one addition, not a change to every node after it."""
    if _signature(old) != _signature(new) and type(old) is not type(new):
        yield Change(path, "changed", _node_text(old), _node_text(new))
        return
    if isinstance(old, ActionNode) and isinstance(new, ActionNode):
        yield from _step_changes(path, old.step, new.step)
    elif isinstance(old, ConditionNode) and isinstance(new, ConditionNode):
        if old.condition.source != new.condition.source:
            yield Change(path, "condition", old.condition.source, new.condition.source)
    elif isinstance(old, ConditionalSelectorNode) and isinstance(new, ConditionalSelectorNode):
        yield from _aligned(old.branches, new.branches, f"{path}.branches", _branch_changes)
    elif isinstance(old, SequenceNode | SelectorNode | ParallelNode) and isinstance(
        new, SequenceNode | SelectorNode | ParallelNode
    ):
        if isinstance(old, ParallelNode) and isinstance(new, ParallelNode):
            if old.policy != new.policy:
                yield Change(path, "policy", old.policy, new.policy)
        yield from _aligned(old.children, new.children, f"{path}.children", _bt_changes)


def _branch_changes(old: Branch, new: Branch, path: str) -> Iterator[Change]:
    if _source(old.when) != _source(new.when):
        yield Change(path, "condition", _guard(old.when), _guard(new.when))
    yield from _bt_changes(old.do, new.do, f"{path}.do")


def _aligned(
    old: Sequence[Any],
    new: Sequence[Any],
    at: str,
    compare: Callable[[Any, Any, str], Iterator[Change]],
) -> Iterator[Change]:
    """Children matched by their signature; replaced runs compared pairwise in order."""
    matcher = difflib.SequenceMatcher(
        None, [_signature(o) for o in old], [_signature(n) for n in new], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        pairs = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(pairs):
            yield from compare(old[i1 + k], new[j1 + k], f"{at}[{j1 + k}]")
        for i in range(i1 + pairs, i2):
            yield Change(f"{at}[{i}] (base)", "removed", _node_text(old[i]), None)
        for j in range(j1 + pairs, j2):
            yield Change(f"{at}[{j}]", "added", None, _node_text(new[j]))


def _signature(node: Any) -> tuple[str, str | None]:
    """What a node is, shallowly: its kind and its agent/tool or condition."""
    if isinstance(node, Branch):
        return ("branch", _source(node.when))
    if isinstance(node, ActionNode):
        return ("action", who(node.step.binding))
    if isinstance(node, ConditionNode):
        return ("condition", node.condition.source)
    if isinstance(node, ParallelNode):
        return ("parallel", None)
    return (type(node).__name__.removesuffix("Node").lower(), None)


def _node_text(node: Any) -> str:
    kind, what = _signature(node)
    if kind == "action":
        return f"action {what}"
    if kind in ("condition", "branch"):
        return f"{kind} {what or '(default)'}"
    return kind


def _entries_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    for name in {**old, **new}:  # in the order the planner lists its settings
        if old.get(name) != new.get(name):
            yield Change("planner", name, old.get(name), new.get(name))


def _llm_entries(plan: LlmPlan) -> dict[str, Any]:
    return {
        "planner agent": who(plan.binding),
        "prompt": plan.prompt,
        "temperature": str(plan.temperature),
        "max steps": str(plan.max_steps),
        "allowed decisions": ", ".join(plan.allowed_decisions),
        "output schema": plan.output_schema,
        "fallback": plan.fallback,
    }


def _guard(condition: Any) -> str:
    return _source(condition) or "(default)"


def _source(condition: Any) -> str | None:
    return None if condition is None else str(condition.source)


def _retry(retry: RetryPlan) -> str:
    if retry.max_attempts == 1:
        return "1 attempt"
    return f"{retry.max_attempts} attempts, {retry.backoff} from {retry.initial_delay_ms} ms"


def _ms(value: int | None) -> str | None:
    return None if value is None else f"{value} ms"
