"""Escalations: what a change lets an agent do that it could not before.        (af diff)

Input: the base and head ExecProfiles (by id) and policy rules of two bundles.
Output: each `Escalation`, naming the (agent, tool) pair, the old and new value and the head
line that caused it (the profile's provenance): a new permission or domain, a tool newly
reachable, a weaker sandbox (gvisor → docker → process), looser residency (strict → lenient →
off, or a wider egress list), a timeout, memory, CPU, retry count or budget raised, a policy rule
removed or downgraded (error → warning).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentflow.bundle.profile import SANDBOX_STRENGTH, Budget, ExecProfile, Permission, Residency

RESIDENCY_STRENGTH = {"off": 0, "lenient": 1, "strict": 2}


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


def escalations(
    base_profiles: Mapping[str, ExecProfile],
    head_profiles: Mapping[str, ExecProfile],
    base_rules: Mapping[tuple[str, str], Mapping[str, Any]],
    head_rules: Mapping[tuple[str, str], Mapping[str, Any]],
) -> tuple[Escalation, ...]:
    """Every escalation from base to head: profiles first (by id), then rules."""
    return (
        *_profile_escalations(base_profiles, head_profiles),
        *_rule_escalations(base_rules, head_rules),
    )


def _profile_escalations(
    base: Mapping[str, ExecProfile], head: Mapping[str, ExecProfile]
) -> Iterator[Escalation]:
    for id_ in sorted(head):
        new = head[id_]
        old = base.get(id_)
        agent, tool = new.agent, new.tool
        if old is None:
            if tool is not None and not _reached_before(base, agent, tool):
                granted = _permissions_text(new)
                yield Escalation(
                    "tool-reachable",
                    agent,
                    tool,
                    None,
                    granted,
                    _source_of(new, "timeoutMs"),
                    "newly reachable" + (f" ({granted})" if new.permissions else ""),
                )
            continue
        yield from _widened_permissions(old, new)
        yield from _weakened(old, new)


def _reached_before(base: Mapping[str, ExecProfile], agent: str, tool: str) -> bool:
    return any(p.agent == agent and p.tool == tool for p in base.values())


def _widened_permissions(old: ExecProfile, new: ExecProfile) -> Iterator[Escalation]:
    for name, now in new.permissions:
        was = old.permission(name)
        if now is True:
            if was is not True:
                yield Escalation(
                    "permission",
                    new.agent,
                    new.tool,
                    _json(was),
                    True,
                    _source_of(new, f"permissions.{name}"),
                    f"gains {name}",
                )
            continue
        gained = sorted(set(now) - set(was if isinstance(was, tuple) else ()))
        if gained:
            items = ", ".join(f"'{g}'" for g in gained)
            yield Escalation(
                "permission",
                new.agent,
                new.tool,
                _json(was),
                _json(now),
                _source_of(new, f"permissions.{name}"),
                f"gains {name} {items}",
            )


def _weakened(old: ExecProfile, new: ExecProfile) -> Iterator[Escalation]:
    agent, tool = new.agent, new.tool
    if SANDBOX_STRENGTH[new.sandbox] < SANDBOX_STRENGTH[old.sandbox]:
        yield Escalation(
            "sandbox",
            agent,
            tool,
            old.sandbox,
            new.sandbox,
            _source_of(new, "sandbox"),
            f"weaker sandbox: {old.sandbox} → {new.sandbox}",
        )
    was, now = old.residency, new.residency
    looser_mode = RESIDENCY_STRENGTH[now.mode] < RESIDENCY_STRENGTH[was.mode]
    if looser_mode or _wider_egress(was.egress_allow_list, now.egress_allow_list):
        yield Escalation(
            "residency",
            agent,
            tool,
            was.to_json(),
            now.to_json(),
            _source_of(new, "residency"),
            f"looser residency: {_residency_text(was)} → {_residency_text(now)}",
        )
    for field, kind, unit, before, after in (
        ("timeoutMs", "timeout", "ms", old.timeout_ms, new.timeout_ms),
        ("memoryBytes", "memory", "bytes", old.memory_bytes, new.memory_bytes),
        ("cpuMillis", "cpu", "millicores", old.cpu_millis, new.cpu_millis),
    ):
        if after > before:
            yield Escalation(
                kind,
                agent,
                tool,
                before,
                after,
                _source_of(new, field),
                f"{kind} raised: {before} → {after} {unit}",
            )
    before, after = old.retry.max_attempts, new.retry.max_attempts
    if after > before:
        yield Escalation(
            "retries",
            agent,
            tool,
            before,
            after,
            _source_of(new, "retry"),
            f"attempts raised: {before} → {after}",
        )
    if _budget_raised(old.budget, new.budget):
        yield Escalation(
            "budget",
            agent,
            tool,
            old.budget.to_json() if old.budget is not None else None,
            new.budget.to_json() if new.budget is not None else None,
            _source_of(new, "budget"),
            f"budget raised: {_budget_text(old.budget)} → {_budget_text(new.budget)}",
        )


def _wider_egress(old: tuple[str, ...] | None, new: tuple[str, ...] | None) -> bool:
    if old is None:
        return False  # unrestricted already
    return new is None or bool(set(new) - set(old))


def _budget_raised(old: Budget | None, new: Budget | None) -> bool:
    if old is None:
        return False  # no budget before: nothing to raise
    if new is None:
        return True  # a budget dropped: unlimited now
    return (old.tokens is not None and (new.tokens is None or new.tokens > old.tokens)) or (
        old.dollars is not None and (new.dollars is None or new.dollars > old.dollars)
    )


def _source_of(profile: ExecProfile, field: str) -> str | None:
    """The head line that decided ``field``: a clamping limit, else the first named origin."""
    origins = dict(profile.provenance).get(field, ())
    chosen = next((o for o in origins if o.note), None) or next(
        (o for o in origins if o.file), None
    )
    return f"{chosen.file}:{chosen.line}" if chosen else None


def _json(value: Permission | None) -> Any:
    """A permission as the bundle writes it: a list, ``true`` or null."""
    return list(value) if isinstance(value, tuple) else value


def _permissions_text(profile: ExecProfile) -> str:
    return "; ".join(
        name if value is True else f"{name} {', '.join(value)}"
        for name, value in profile.permissions
    )


def _residency_text(residency: Residency) -> str:
    egress = residency.egress_allow_list
    listed = "any granted host" if egress is None else ", ".join(egress) or "no host"
    return f"{residency.mode} (egress: {listed})"


def _budget_text(budget: Budget | None) -> str:
    if budget is None:
        return "none"
    parts = [
        f"{value} {name}"
        for name, value in (("tokens", budget.tokens), ("dollars", budget.dollars))
        if value is not None
    ]
    return f"{', '.join(parts) or 'unlimited'} per {budget.period}"


def _rule_escalations(
    before: Mapping[tuple[str, str], Mapping[str, Any]],
    after: Mapping[tuple[str, str], Mapping[str, Any]],
) -> Iterator[Escalation]:
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
