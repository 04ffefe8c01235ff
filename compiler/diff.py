"""The semantic diff of two compiled bundles: what a change does, not which lines moved.

Input: two `BundleView`s (base and head). Output: a frozen `BundleDiff`:

- **escalations**, each naming the (agent, tool) pair, the old and new value and the source line
  that caused it (from the head profile's provenance): a new permission or domain, a tool newly
  reachable by an agent, a sandbox weakened (gvisor → docker → process), residency loosened
  (strict → lenient → off, or a wider egress list), a timeout, memory, CPU, retry count or budget
  raised, a policy rule removed or downgraded (error → warning);
- per workflow: added, removed, or changed: states and transitions added and removed,
  conditions changed (old → new expression), bindings, error edges, retries, timeouts; and
  whether its plan-cache key moved (it re-plans), with the profiles that moved it;
- profiles added, removed or changed in ways that widen nothing, and rules changed.

Pure: nothing here reads files or git (`diff_sources.py` does).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .bundle_read import BundleView
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
from .plans import reachable_pairs
from .profiles import SANDBOX_STRENGTH, profile_id

RESIDENCY_STRENGTH = {"off": 0, "lenient": 1, "strict": 2}
DIFF_FORMAT = "agentflow.diff/v1"


@dataclass(frozen=True, slots=True)
class Escalation:
    kind: str
    """``permission``, ``tool-reachable``, ``sandbox``, ``residency``, ``timeout``, ``memory``,
    ``cpu``, ``retries``, ``budget``, ``rule-removed``, ``rule-downgraded``."""
    agent: str | None
    tool: str | None
    old: Any
    new: Any
    source: str | None
    """``file:line`` of the head source that set the new value, where known."""
    change: str
    """What changed, without the pair: ``gains network.http 'x.example.com'``."""

    @property
    def subject(self) -> str:
        """The (agent, tool) pair it is about: ``researcher → kb-search``; empty for a rule."""
        if self.agent is None:
            return ""
        return self.agent if self.tool is None else f"{self.agent} → {self.tool}"

    @property
    def summary(self) -> str:
        return f"{self.subject}: {self.change}" if self.subject else self.change


@dataclass(frozen=True, slots=True)
class Change:
    where: str
    """``state classify``, ``classify → knowledge_search``, ``root.children[1]``."""
    what: str
    """``condition``, ``binding``, ``state added``, ``transition removed``, ``retry``…"""
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class PlanDiff:
    name: str
    status: str
    """``added``, ``removed`` or ``changed``."""
    changes: tuple[Change, ...]
    replans: bool
    """Its plan-cache key moved (an existing workflow whose cached plans are invalid)."""
    moved_profiles: tuple[str, ...]
    """The profiles it reaches whose hash moved: why it re-plans when its plan did not change."""


@dataclass(frozen=True, slots=True)
class ProfileDiff:
    id: str
    status: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleDiff:
    policy: str
    name: str
    status: str
    """``added``, ``removed``, ``changed``."""
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class BundleDiff:
    base: str
    head: str
    escalations: tuple[Escalation, ...]
    plans: tuple[PlanDiff, ...]
    profiles: tuple[ProfileDiff, ...]
    rules: tuple[RuleDiff, ...]

    @property
    def invalidated(self) -> tuple[str, ...]:
        """Workflows whose cached plans the change invalidates."""
        return tuple(p.name for p in self.plans if p.replans or p.status == "removed")

    @property
    def empty(self) -> bool:
        return not (self.escalations or self.plans or self.profiles or self.rules)


def diff_bundles(base: BundleView, head: BundleView) -> BundleDiff:
    moved = {
        id_
        for id_ in base.profiles.keys() | head.profiles.keys()
        if _content(base.profiles.get(id_)) != _content(head.profiles.get(id_))
    }
    plans = tuple(_plan_diffs(base, head, moved))
    escalations = (*_profile_escalations(base, head), *_rule_escalations(base, head))
    return BundleDiff(
        base=base.label,
        head=head.label,
        escalations=escalations,
        plans=plans,
        profiles=tuple(_profile_diffs(base, head)),
        rules=tuple(_rule_diffs(base, head)),
    )


# --- plans ---------------------------------------------------------------------------------


def _plan_diffs(base: BundleView, head: BundleView, moved: set[str]) -> Iterator[PlanDiff]:
    old_keys, new_keys = base.keys, head.keys
    for name in sorted(base.plans.keys() | head.plans.keys()):
        old, new = base.plans.get(name), head.plans.get(name)
        if old is None:
            yield PlanDiff(name, "added", (), False, ())
        elif new is None:
            yield PlanDiff(name, "removed", (), True, ())
        else:
            changes = tuple(plan_changes(old, new))
            replans = old_keys.get(name) != new_keys.get(name)
            reached = sorted(profile_id(a, t) for a, t in reachable_pairs(new))
            profiles = tuple(p for p in reached if p in moved)
            if changes or replans:
                yield PlanDiff(name, "changed", changes, replans, profiles)


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


# --- profiles and escalations --------------------------------------------------------------


def _content(profile: Mapping[str, Any] | None) -> Any:
    if profile is None:
        return None
    return {k: v for k, v in profile.items() if k not in ("provenance", "hash")}


def _profile_diffs(base: BundleView, head: BundleView) -> Iterator[ProfileDiff]:
    for id_ in sorted(base.profiles.keys() | head.profiles.keys()):
        old, new = _content(base.profiles.get(id_)), _content(head.profiles.get(id_))
        if old == new:
            continue
        if old is None:
            yield ProfileDiff(id_, "added", ())
        elif new is None:
            yield ProfileDiff(id_, "removed", ())
        else:
            fields = tuple(sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)))
            yield ProfileDiff(id_, "changed", fields)


def _profile_escalations(base: BundleView, head: BundleView) -> Iterator[Escalation]:
    for id_ in sorted(head.profiles):
        new = head.profiles[id_]
        old = base.profiles.get(id_)
        agent, tool = new["agent"], new["tool"]
        if old is None:
            if tool is not None and not _reached_before(base, agent, tool):
                yield Escalation(
                    "tool-reachable",
                    agent,
                    tool,
                    None,
                    _permissions_text(new["permissions"]),
                    _source_of(new, "timeoutMs"),
                    "newly reachable"
                    + (f" ({_permissions_text(new['permissions'])})" if new["permissions"] else ""),
                )
            continue
        yield from _widened_permissions(old, new)
        yield from _weakened(old, new)


def _reached_before(base: BundleView, agent: str, tool: str) -> bool:
    return any(p.get("agent") == agent and p.get("tool") == tool for p in base.profiles.values())


def _widened_permissions(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Escalation]:
    agent, tool = new["agent"], new["tool"]
    before, after = old["permissions"], new["permissions"]
    for name in sorted(after):
        was, now = before.get(name), after[name]
        if now is True:
            if was is not True:
                yield Escalation(
                    "permission",
                    agent,
                    tool,
                    was,
                    True,
                    _source_of(new, f"permissions.{name}"),
                    f"gains {name}",
                )
            continue
        gained = sorted(set(now) - set(was if isinstance(was, list) else []))
        if gained:
            items = ", ".join(f"'{g}'" for g in gained)
            yield Escalation(
                "permission",
                agent,
                tool,
                was,
                now,
                _source_of(new, f"permissions.{name}"),
                f"gains {name} {items}",
            )


def _weakened(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Escalation]:
    agent, tool = new["agent"], new["tool"]
    if SANDBOX_STRENGTH[new["sandbox"]] < SANDBOX_STRENGTH[old["sandbox"]]:
        yield Escalation(
            "sandbox",
            agent,
            tool,
            old["sandbox"],
            new["sandbox"],
            _source_of(new, "sandbox"),
            f"weaker sandbox: {old['sandbox']} → {new['sandbox']}",
        )
    was, now = old["residency"], new["residency"]
    looser_mode = RESIDENCY_STRENGTH[now["mode"]] < RESIDENCY_STRENGTH[was["mode"]]
    if looser_mode or _wider_egress(was["egressAllowList"], now["egressAllowList"]):
        yield Escalation(
            "residency",
            agent,
            tool,
            was,
            now,
            _source_of(new, "residency"),
            f"looser residency: {_residency_text(was)} → {_residency_text(now)}",
        )
    for field, kind, unit in (
        ("timeoutMs", "timeout", "ms"),
        ("memoryBytes", "memory", "bytes"),
        ("cpuMillis", "cpu", "millicores"),
    ):
        if new[field] > old[field]:
            yield Escalation(
                kind,
                agent,
                tool,
                old[field],
                new[field],
                _source_of(new, field),
                f"{kind} raised: {old[field]} → {new[field]} {unit}",
            )
    if new["retry"]["maxAttempts"] > old["retry"]["maxAttempts"]:
        yield Escalation(
            "retries",
            agent,
            tool,
            old["retry"]["maxAttempts"],
            new["retry"]["maxAttempts"],
            _source_of(new, "retry"),
            f"attempts raised: {old['retry']['maxAttempts']} → {new['retry']['maxAttempts']}",
        )
    if _budget_raised(old["budget"], new["budget"]):
        yield Escalation(
            "budget",
            agent,
            tool,
            old["budget"],
            new["budget"],
            _source_of(new, "budget"),
            f"budget raised: {_budget_text(old['budget'])} → {_budget_text(new['budget'])}",
        )


def _wider_egress(old: list[str] | None, new: list[str] | None) -> bool:
    if old is None:
        return False  # unrestricted already
    return new is None or bool(set(new) - set(old))


def _budget_raised(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    if old is None:
        return False  # no budget before: nothing to raise
    if new is None:
        return True  # a budget dropped: unlimited now
    return any(
        old.get(k) is not None and (new.get(k) is None or new[k] > old[k])
        for k in ("tokens", "dollars")
    )


def _source_of(profile: Mapping[str, Any], field: str) -> str | None:
    """The head line that decided ``field``: a clamping limit, else the first named origin."""
    origins = profile.get("provenance", {}).get(field, [])
    chosen = next((o for o in origins if o.get("note")), None) or next(
        (o for o in origins if o.get("file")), None
    )
    return f"{chosen['file']}:{chosen['line']}" if chosen else None


def _permissions_text(permissions: Mapping[str, Any]) -> str:
    return "; ".join(
        name if value is True else f"{name} {', '.join(value)}"
        for name, value in sorted(permissions.items())
    )


def _residency_text(residency: Mapping[str, Any]) -> str:
    egress = residency["egressAllowList"]
    listed = "any granted host" if egress is None else ", ".join(egress) or "no host"
    return f"{residency['mode']} (egress: {listed})"


def _budget_text(budget: Mapping[str, Any] | None) -> str:
    if budget is None:
        return "none"
    parts = [f"{budget[k]} {k}" for k in ("tokens", "dollars") if budget.get(k) is not None]
    return f"{', '.join(parts) or 'unlimited'} per {budget['period']}"


# --- rules ---------------------------------------------------------------------------------


def _rules(view: BundleView) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(r["policy"], r["name"]): r for r in view.manifest.get("rules", [])}


def _rule_escalations(base: BundleView, head: BundleView) -> Iterator[Escalation]:
    before, after = _rules(base), _rules(head)
    for key in sorted(before):
        policy, name = key
        now = after.get(key)
        if now is None:
            yield Escalation(
                "rule-removed",
                None,
                None,
                before[key]["severity"],
                None,
                None,
                f"policy rule '{name}' of '{policy}' removed",
            )
        elif before[key]["severity"] == "error" and now["severity"] == "warning":
            yield Escalation(
                "rule-downgraded",
                None,
                None,
                "error",
                "warning",
                None,
                f"policy rule '{name}' of '{policy}' downgraded: error → warning",
            )


def _rule_diffs(base: BundleView, head: BundleView) -> Iterator[RuleDiff]:
    before, after = _rules(base), _rules(head)
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        status = "added" if was is None else "removed" if now is None else "changed"
        yield RuleDiff(
            key[0],
            key[1],
            status,
            was["expr"] if was else None,
            now["expr"] if now else None,
        )
