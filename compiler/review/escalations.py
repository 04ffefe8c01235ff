"""Escalations: what a change lets an agent do that it could not before.        (af diff)

Input: the base and head ExecProfiles (their JSON, by id) and policy rules of two bundles.
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

from agentflow.bundle.profile import SANDBOX_STRENGTH

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
    base_profiles: Mapping[str, Mapping[str, Any]],
    head_profiles: Mapping[str, Mapping[str, Any]],
    base_rules: Mapping[tuple[str, str], Mapping[str, Any]],
    head_rules: Mapping[tuple[str, str], Mapping[str, Any]],
) -> tuple[Escalation, ...]:
    """Every escalation from base to head: profiles first (by id), then rules."""
    return (
        *_profile_escalations(base_profiles, head_profiles),
        *_rule_escalations(base_rules, head_rules),
    )


def _profile_escalations(
    base: Mapping[str, Mapping[str, Any]], head: Mapping[str, Mapping[str, Any]]
) -> Iterator[Escalation]:
    for id_ in sorted(head):
        new = head[id_]
        old = base.get(id_)
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


def _reached_before(base: Mapping[str, Mapping[str, Any]], agent: str, tool: str) -> bool:
    return any(p.get("agent") == agent and p.get("tool") == tool for p in base.values())


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
