"""`af diff` output: text for terminals, Markdown for pull-request comments, JSON for machines.

Input: a `BundleDiff` and, for pictures, the head and base plans. Output: text. Every format
puts escalations first. Markdown is made for one sticky comment a bot updates: it starts with
the hidden marker ``<!-- agentflow-diff part 1/N -->``, has a one-line summary, one collapsible
``<details>`` per workflow with a Mermaid picture of a changed workflow (new or relabelled
edges marked), and is split into parts that each fit GitHub's 65,536-character comment limit.
JSON has a versioned shape (``agentflow.diff/v1``, schemas/diff.schema.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentflow.bundle.plan import Plan
from agentflow.compiler.review.changes import Change
from agentflow.compiler.review.diff import DIFF_FORMAT, BundleDiff, PlanDiff
from agentflow.compiler.review.draw import mermaid_with_changes
from agentflow.compiler.review.escalations import Escalation

COMMENT_LIMIT = 65_536
"""GitHub's limit on a comment body, in characters."""
PART_BUDGET = COMMENT_LIMIT - 1_000
"""What a part may hold, leaving room for its marker and continuation lines."""
MARKER = "<!-- agentflow-diff part {index}/{count} -->"


def summary_line(diff: BundleDiff) -> str:
    if diff.empty:
        return "no changes"
    parts = [
        _count(len(diff.plans), "plan changed", "plans changed"),
        _count(len(diff.escalations), "escalation", "escalations"),
        _count(len(diff.invalidated), "cache key invalidated", "cache keys invalidated"),
    ]
    return ", ".join(parts)


def render_text(diff: BundleDiff) -> str:
    out = [f"af diff {diff.base} → {diff.head}: {summary_line(diff)}"]
    if diff.escalations:
        out += ["", "Escalations"]
        out += [f"  ! {line}" for line in _escalation_lines(diff.escalations)]
    if diff.plans:
        out += ["", "Workflows"]
        for plan in diff.plans:
            out.append(f"  {plan.name} ({_status(plan)})")
            out += [f"    {_change_line(c)}" for c in plan.changes]
            if plan.moved_profiles:
                out.append(f"    profiles changed: {', '.join(plan.moved_profiles)}")
            if plan.moved_tools:
                out.append(f"    tools changed: {', '.join(plan.moved_tools)}")
    if diff.profiles:
        out += ["", "ExecProfiles"]
        for profile in diff.profiles:
            fields = f": {', '.join(profile.fields)}" if profile.fields else ""
            out.append(f"  {profile.id} ({profile.status}{fields})")
    if diff.tools:
        out += ["", "Tools"]
        for tool in diff.tools:
            out.append(f"  {tool.name} ({tool.status})")
            out += [f"    {_change_line(c)}" for c in tool.changes]
    if diff.rules:
        out += ["", "Policy rules"]
        out += [f"  {r.policy}/{r.name} ({r.status})" for r in diff.rules]
    if diff.invalidated:
        out += ["", f"Cache keys invalidated: {', '.join(diff.invalidated)}"]
    return "\n".join(out) + "\n"


def render_markdown(
    diff: BundleDiff,
    head_plans: Mapping[str, Plan],
    base_plans: Mapping[str, Plan],
    limit: int = PART_BUDGET,
) -> list[str]:
    """The comment, in parts that each fit ``limit`` characters plus their marker."""
    head = [
        f"### AgentFlow plan diff: `{diff.base}` → `{diff.head}`",
        "",
        f"**{summary_line(diff)}**",
    ]
    sections: list[str] = ["\n".join(head) + "\n"]
    if diff.escalations:
        lines = ["#### ⚠️ Escalations", ""]
        lines += [
            f"- {_md(line, width=4_000)}" for line in _escalation_lines(diff.escalations, md=True)
        ]
        sections.append("\n".join(lines) + "\n")
    for plan in diff.plans:
        sections.append(_md_plan(plan, head_plans.get(plan.name), base_plans.get(plan.name)))
    if diff.profiles:
        lines = ["<details><summary>ExecProfiles changed</summary>", ""]
        lines += ["| profile | change |", "|---|---|"]
        for profile in diff.profiles:
            fields = f": {', '.join(profile.fields)}" if profile.fields else ""
            lines.append(f"| `{profile.id}` | {profile.status}{_md(fields)} |")
        sections.append("\n".join([*lines, "", "</details>"]) + "\n")
    if diff.tools:
        lines = ["<details><summary>Tools changed</summary>", ""]
        lines += ["| tool | change | before | after |", "|---|---|---|---|"]
        for tool in diff.tools:
            if not tool.changes:
                lines.append(f"| `{tool.name}` | {tool.status} | — | — |")
            for c in tool.changes:
                lines.append(f"| `{tool.name}` | {c.what} | {_code(c.old)} | {_code(c.new)} |")
        sections.append("\n".join([*lines, "", "</details>"]) + "\n")
    if diff.rules:
        lines = ["<details><summary>Policy rules changed</summary>", ""]
        lines += [f"- `{r.policy}/{r.name}`: {r.status}" for r in diff.rules]
        sections.append("\n".join([*lines, "", "</details>"]) + "\n")
    if diff.invalidated:
        names = ", ".join(f"`{n}`" for n in diff.invalidated)
        sections.append(f"Cache keys invalidated (these workflows re-plan): {names}\n")
    return _split(sections, limit)


def render_json(diff: BundleDiff) -> dict[str, Any]:
    return {
        "formatVersion": DIFF_FORMAT,
        "base": diff.base,
        "head": diff.head,
        "summary": {
            "plansChanged": len(diff.plans),
            "escalations": len(diff.escalations),
            "cacheKeysInvalidated": len(diff.invalidated),
            "empty": diff.empty,
        },
        "escalations": [
            {
                "kind": e.kind,
                "agent": e.agent,
                "tool": e.tool,
                "old": e.old,
                "new": e.new,
                "source": e.source,
                "change": e.change,
                "summary": e.summary,
            }
            for e in diff.escalations
        ],
        "workflows": [
            {
                "name": p.name,
                "status": p.status,
                "replans": p.replans,
                "profilesChanged": list(p.moved_profiles),
                "toolsChanged": list(p.moved_tools),
                "changes": [
                    {"where": c.where, "what": c.what, "old": c.old, "new": c.new}
                    for c in p.changes
                ],
            }
            for p in diff.plans
        ],
        "profiles": [
            {"id": p.id, "status": p.status, "fields": list(p.fields)} for p in diff.profiles
        ],
        "tools": [
            {
                "name": t.name,
                "status": t.status,
                "changes": [
                    {"where": c.where, "what": c.what, "old": c.old, "new": c.new}
                    for c in t.changes
                ],
            }
            for t in diff.tools
        ],
        "rules": [
            {"policy": r.policy, "name": r.name, "status": r.status, "old": r.old, "new": r.new}
            for r in diff.rules
        ],
        "cacheKeysInvalidated": list(diff.invalidated),
    }


# --- pieces --------------------------------------------------------------------------------


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _status(plan: PlanDiff) -> str:
    if plan.status != "changed":
        return plan.status
    return "changed, re-plans" if plan.replans else "changed"


def _escalation_lines(escalations: tuple[Escalation, ...], *, md: bool = False) -> list[str]:
    """One line per distinct change and source, naming every pair it reaches: a policy's
    sandbox default weakens every profile at once, and says so once."""
    groups: dict[tuple[str, str, str | None], list[str]] = {}
    for e in escalations:
        groups.setdefault((e.kind, e.change, e.source), []).append(e.subject)
    lines = []
    for (kind, change, source), subjects in groups.items():
        named = ", ".join(s for s in subjects if s)
        where = f" ({source})" if source else ""
        head = f"[{kind}] " if md else ""
        lines.append(f"{head}{named + ': ' if named else ''}{change}{where}")
    return lines


def _change_line(change: Change) -> str:
    if change.old is None:
        return f"{change.what}: {change.where}: {_short(change.new)}"
    if change.new is None:
        return f"{change.what}: {change.where}: {_short(change.old)}"
    return f"{change.what}: {change.where}: {_short(change.old)} → {_short(change.new)}"


def _short(text: str | None, width: int = 160) -> str:
    if text is None:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _md(text: str | None, width: int = 160) -> str:
    """``text`` inside a Markdown table cell or list item: no breaking characters."""
    if text is None:
        return ""
    return _short(text, width).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _md_plan(plan: PlanDiff, head: Plan | None, base: Plan | None) -> str:
    lines = [f"<details><summary><code>{plan.name}</code>: {_status(plan)}</summary>", ""]
    if plan.changes:
        lines += ["| where | change | before | after |", "|---|---|---|---|"]
        for c in plan.changes:
            lines.append(f"| {_md(c.where)} | {c.what} | {_code(c.old)} | {_code(c.new)} |")
        lines.append("")
    if plan.moved_profiles:
        lines += [f"ExecProfiles that moved its key: {', '.join(plan.moved_profiles)}", ""]
    if plan.moved_tools:
        lines += [f"Tools that moved its key: {', '.join(plan.moved_tools)}", ""]
    if head is not None and (plan.changes or plan.status == "added"):
        lines += ["```mermaid", mermaid_with_changes(head, base).rstrip("\n"), "```", ""]
    lines.append("</details>")
    return "\n".join(lines) + "\n"


def _code(text: str | None) -> str:
    if text is None:
        return "—"
    return "<code>" + _md(text) + "</code>"


def _split(sections: list[str], limit: int) -> list[str]:
    """Pack sections into parts of at most ``limit`` characters; a section larger than a
    part is cut, saying so."""
    parts: list[list[str]] = [[]]
    size = 0
    for section in sections:
        if len(section) > limit:
            note = "\n\n*(cut: this section is too long for a comment; see the JSON output)*\n"
            section = section[: limit - len(note)] + note
        if size + len(section) > limit and parts[-1]:
            parts.append([])
            size = 0
        parts[-1].append(section)
        size += len(section)
    count = len(parts)
    rendered = []
    for index, chunk in enumerate(parts, start=1):
        marker = MARKER.format(index=index, count=count)
        more = f"\n*(continued in part {index + 1} of {count})*\n" if index < count else ""
        rendered.append(marker + "\n" + "\n".join(chunk) + more)
    return rendered
