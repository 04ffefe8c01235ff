"""What changed between two plans of one workflow, as `Change`s a reviewer can read.   (af diff)

Input: the base and head `Plan` of a workflow. Output: changes in plan order: FSM states and
transitions added and removed, conditions changed (old → new expression, when the routing is
the same), bindings, error edges, retries, timeouts, prompts, inputs and schemas; behavior-tree
nodes by their position in the tree; an LLM planner's settings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .draw import who
from .plan_ir import (
    ActionNode,
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
        yield from _entries_changes(
            dict(_bt_entries(old.root, "root")), dict(_bt_entries(new.root, "root"))
        )
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
            yield Change(f"state {name}", "state added", None, who(now.step.binding))
            yield from (
                Change(f"{name} → {t.target}", "transition added", None, _guard(t.condition))
                for t in now.transitions
            )
        elif now is None and was is not None:
            yield Change(f"state {name}", "state removed", who(was.step.binding), None)
        elif was is not None and now is not None:
            yield from _state_changes(was, now)


def _state_changes(old: StatePlan, new: StatePlan) -> Iterator[Change]:
    where = f"state {old.name}"
    yield from _step_changes(where, old.step, new.step)
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


def _bt_entries(node: BtPlanNode, path: str) -> Iterator[tuple[str, tuple[str, Any]]]:
    """Every node of a tree by its path: (kind, what defines it)."""
    if isinstance(node, ActionNode):
        yield path, ("action", node.step)
    elif isinstance(node, ConditionNode):
        yield path, ("condition", node.condition.source)
    elif isinstance(node, SequenceNode | SelectorNode | ParallelNode):
        kind = type(node).__name__.removesuffix("Node").lower()
        policy = node.policy if isinstance(node, ParallelNode) else None
        yield path, (kind, policy)
        for i, child in enumerate(node.children):
            yield from _bt_entries(child, f"{path}.children[{i}]")
    elif isinstance(node, ConditionalSelectorNode):
        yield path, ("conditional_selector", None)
        for i, branch in enumerate(node.branches):
            at = f"{path}.branches[{i}]"
            yield at, ("branch", _source(branch.when))
            yield from _bt_entries(branch.do, f"{at}.do")


def _entries_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    for path in sorted(old.keys() | new.keys(), key=_natural):
        was, now = old.get(path), new.get(path)
        if was == now:
            continue
        if was is None:
            yield Change(path, "added", None, _describe(now))
        elif now is None:
            yield Change(path, "removed", _describe(was), None)
        elif isinstance(was, tuple) and isinstance(now, tuple) and was[0] == now[0] == "action":
            yield from _step_changes(path, was[1], now[1])
        elif isinstance(was, tuple) and isinstance(now, tuple) and was[0] == now[0]:
            what = "condition" if was[0] in ("condition", "branch") else was[0]
            yield Change(path, what, _describe(was), _describe(now))
        else:
            yield Change(path, "changed", _describe(was), _describe(now))


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


def _describe(entry: Any) -> str | None:
    if entry is None or isinstance(entry, str):
        return entry
    kind, value = entry
    if kind == "action":
        return f"action {who(value.binding)}"
    if kind in ("condition", "branch"):
        return value or "(default)"
    return f"{kind} ({value})" if value else kind


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


def _natural(path: str) -> list[tuple[int, Any]]:
    """``a.children[10]`` after ``a.children[2]``."""
    parts = path.replace("]", "").split("[")
    return [(0, int(p)) if p.isdigit() else (1, p) for p in parts]
