"""Grant semantics: does a role's permission cover a tool's need?   (used by AF6xx checks)

Pure functions over permission values, shared by the policy checks and, later, ExecProfile
derivation, so that "granted" means one thing everywhere. Default deny: a need is granted only
by an explicit grant of the same permission.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from agentflow.compiler.load.permissions import DOMAIN_PERMISSIONS


def domain_granted(need: str, grant: str) -> bool:
    """``*.corp.example.com`` grants ``docs.corp.example.com`` and ``a.b.corp.example.com``,
    never ``corp.example.com`` itself nor ``evil.com``; a wildcard need is granted only by an
    equal or wider wildcard."""
    need, grant = need.lower().rstrip("."), grant.lower().rstrip(".")
    if grant == "*":
        return True
    if not grant.startswith("*."):
        return need == grant
    suffix = grant[1:]  # ".corp.example.com"
    if need.startswith("*."):
        return need[1:] == suffix or need[1:].endswith(suffix)
    return need.endswith(suffix) and len(need) > len(suffix)


def path_granted(need: str, grant: str) -> bool:
    """A path is granted by itself or any ancestor folder (by components, not characters)."""
    needed, granted = PurePosixPath(need), PurePosixPath(grant)
    return needed == granted or granted in needed.parents


def scope_granted(need: str, grant: str) -> bool:
    """Database scopes and Kubernetes resources: the same name, or ``*``."""
    return need == grant or grant == "*"


def ungranted(name: str, need: Any, grant: Any) -> tuple[str, ...]:
    """The parts of ``need`` that ``grant`` does not cover, as printable items."""
    if isinstance(need, bool):
        return (name,) if need and grant is not True else ()
    needs = tuple(str(n) for n in need) if isinstance(need, list | tuple) else ()
    grants = tuple(str(g) for g in grant) if isinstance(grant, list | tuple) else ()
    covered = (
        domain_granted
        if name in DOMAIN_PERMISSIONS
        else path_granted
        if name == "fs.read"
        else scope_granted
    )
    return tuple(n for n in needs if not any(covered(n, g) for g in grants))


def mcp_host(server: str) -> str | None:
    """The host an MCP tool's server URL names: its implicit ``network.http`` need."""
    host = urlsplit(server if "//" in server else f"//{server}").hostname
    return host or None
