"""ExecProfiles: what one agent may do with one tool, derived and fixed at compile time.   AF6xx

A profile is identified by the (agent, tool) pair it governs; `profile_id` names it the same way
in plans, in `profiles/<id>.json` and in diffs.
"""

from __future__ import annotations


def profile_id(agent: str, tool: str | None) -> str:
    """``agent.tool``, or ``agent`` for the agent's own work (its model calls).

    Resource names are DNS labels, which never hold a dot, so the id is unambiguous.
    """
    return agent if tool is None else f"{agent}.{tool}"
