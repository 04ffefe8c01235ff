"""The semantic diff of two compiled bundles: what a change does, not which lines moved.

Input: two `BundleView`s (base and head). Output: a frozen `BundleDiff`:

- **escalations**, each naming the (agent, tool) pair, the old and new value and the source line
  that caused it (from the head profile's provenance): a new permission or domain, a tool newly
  reachable by an agent, a sandbox weakened (gvisor → docker → process), residency loosened
  (strict → lenient → off, or a wider egress list), a timeout, memory, CPU, retry count or budget
  raised, a policy rule removed or downgraded (error → warning);
- per workflow: added, removed, or changed: states and transitions added and removed,
  conditions changed (old → new expression), bindings, error edges, retries, timeouts; and
  whether its plan-cache key moved (it re-plans), with the profiles and tools that moved it;
- profiles added, removed or changed in ways that widen nothing; tools added, removed or
  called differently (type, endpoint, MCP server or tool, entrypoint, a header, a schema, the
  version); and rules changed. A host newly reached is an escalation of the profiles that
  reach it (their domains), never only a tool change.

Pure: nothing here reads files or git (`sides` does).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentflow.bundle.profile import ExecProfile, profile_id
from agentflow.bundle.queries import reachable_pairs
from agentflow.bundle.read import BundleView
from agentflow.bundle.secrets import Text
from agentflow.bundle.tool import ToolSpec
from agentflow.compiler.review.changes import Change, plan_changes
from agentflow.compiler.review.escalations import Escalation, escalations

DIFF_FORMAT = "agentflow.diff/v1"


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
    moved_tools: tuple[str, ...] = ()
    """The tools it reaches that are called differently now: another reason it re-plans."""


@dataclass(frozen=True, slots=True)
class ProfileDiff:
    id: str
    status: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ToolDiff:
    name: str
    status: str
    """``added``, ``removed`` or ``changed``."""
    changes: tuple[Change, ...]
    """For a changed tool: what is called differently."""


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
    tools: tuple[ToolDiff, ...] = ()

    @property
    def invalidated(self) -> tuple[str, ...]:
        """Workflows whose cached plans the change invalidates."""
        return tuple(p.name for p in self.plans if p.replans or p.status == "removed")

    @property
    def empty(self) -> bool:
        return not (self.escalations or self.plans or self.profiles or self.tools or self.rules)


def diff_bundles(base: BundleView, head: BundleView) -> BundleDiff:
    moved = {
        id_
        for id_ in base.profiles.keys() | head.profiles.keys()
        if _content(base.profiles.get(id_)) != _content(head.profiles.get(id_))
    }
    tools = tuple(_tool_diffs(base, head))
    changed_tools = {t.name for t in tools}
    plans = tuple(_plan_diffs(base, head, moved, changed_tools))
    found = escalations(base.profiles, head.profiles, _rules(base), _rules(head))
    return BundleDiff(
        base=base.label,
        head=head.label,
        escalations=found,
        plans=plans,
        profiles=tuple(_profile_diffs(base, head)),
        rules=tuple(_rule_diffs(base, head)),
        tools=tools,
    )


# --- plans ---------------------------------------------------------------------------------


def _plan_diffs(
    base: BundleView, head: BundleView, moved: set[str], changed_tools: set[str]
) -> Iterator[PlanDiff]:
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
            pairs = reachable_pairs(new)
            reached = sorted(profile_id(a, t) for a, t in pairs)
            profiles = tuple(p for p in reached if p in moved)
            tools = tuple(sorted({t for _, t in pairs if t is not None} & changed_tools))
            if changes or replans:
                yield PlanDiff(name, "changed", changes, replans, profiles, tools)


def _content(profile: ExecProfile | None) -> dict[str, Any] | None:
    return profile.content() if profile is not None else None


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


def _tool_diffs(base: BundleView, head: BundleView) -> Iterator[ToolDiff]:
    for name in sorted(base.tools.keys() | head.tools.keys()):
        old, new = base.tools.get(name), head.tools.get(name)
        if old == new:
            continue
        if old is None:
            yield ToolDiff(name, "added", ())
        elif new is None:
            yield ToolDiff(name, "removed", ())
        else:
            yield ToolDiff(name, "changed", tuple(tool_changes(old, new)))


def tool_changes(old: ToolSpec, new: ToolSpec) -> Iterator[Change]:
    """How a tool is called differently: each field that moved, each header by name."""
    where = f"tool {new.name}"
    old_mcp, new_mcp = old.mcp, new.mcp
    for what, was, now in (
        ("type", old.type, new.type),
        ("version", old.version, new.version),
        ("endpoint", old.endpoint, new.endpoint),
        ("mcp server", old_mcp.server if old_mcp else None, new_mcp.server if new_mcp else None),
        ("mcp tool", old_mcp.tool if old_mcp else None, new_mcp.tool if new_mcp else None),
        ("entrypoint", old.entrypoint, new.entrypoint),
    ):
        if was != now:
            yield Change(where, what, was, now)
    before, after = dict(old.headers), dict(new.headers)
    for header in sorted(before.keys() | after.keys()):
        if before.get(header) != after.get(header):
            yield Change(
                where, f"header {header}", _text(before.get(header)), _text(after.get(header))
            )
    for what, was, now in (
        ("input schema", old.input_schema, new.input_schema),
        ("output schema", old.output_schema, new.output_schema),
    ):
        if was != now:
            yield Change(where, what, was, now)


def _text(value: Text | None) -> str | None:
    """A header value as a reviewer reads it: the string, or ``{secretRef: NAME}``."""
    if value is None or isinstance(value, str):
        return value
    return f"{{secretRef: {value.name}}}"


def _rules(view: BundleView) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(r["policy"], r["name"]): r for r in view.manifest.get("rules", [])}


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
