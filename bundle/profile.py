"""ExecProfiles as the bundle holds them (``profiles/<id>.json``): what one step may do.

The compiler derives them (`agentflow.compiler.plan.profiles`); the runtime enforces them. The
type is the contract both sides share, written by `ExecProfile.to_json` and read back, typed,
by `profile_from_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from agentflow.bundle.canonical import canonical_json, sha256_digest

Sandbox = Literal["gvisor", "docker", "process"]
SANDBOX_STRENGTH: Mapping[str, int] = MappingProxyType({"process": 0, "docker": 1, "gvisor": 2})
"""Stronger isolation, higher number: `af diff` calls a step down a weakening."""
OriginKind = Literal["tool", "agent", "role", "policy", "environment", "default"]


def profile_id(agent: str, tool: str | None) -> str:
    """``agent.tool``, or ``agent`` for the agent's own work (its model calls).

    Resource names are DNS labels, which never hold a dot, so the id is unambiguous.
    """
    return agent if tool is None else f"{agent}.{tool}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a profile's value came from: a resource's field, or a compiler default."""

    kind: OriginKind
    resource: str
    """``Tool/kb-search``; empty for a default."""
    field: str
    """``spec.timeout``, or the default's name."""
    file: str = ""
    line: int = 0
    note: str = ""
    """What the source did to the value: ``clamped to 60s``."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": self.kind, "field": self.field}
        if self.resource:
            out |= {"resource": self.resource, "file": self.file, "line": self.line}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class ExecProfile:
    """What one step may do. Values are canonical (sorted, in integral units)."""

    agent: str
    tool: str | None
    environment: str | None
    permissions: tuple[tuple[str, tuple[str, ...] | bool], ...]
    domains: tuple[str, ...]
    timeout_ms: int
    memory_bytes: int
    cpu_millis: int
    sandbox: Sandbox
    residency: Mapping[str, Any]
    retry: Mapping[str, Any]
    circuit_breaker: Mapping[str, Any]
    budget: Mapping[str, Any] | None
    concurrency: int
    model: Mapping[str, Any] | None
    cost_per_call: float | None
    provenance: tuple[tuple[str, tuple[Origin, ...]], ...] = field(compare=False)

    @property
    def id(self) -> str:
        return profile_id(self.agent, self.tool)

    def content(self) -> dict[str, Any]:
        """Everything that decides what the step may do: what the hash covers."""
        return {
            "id": self.id,
            "agent": self.agent,
            "tool": self.tool,
            "environment": self.environment,
            "permissions": {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in self.permissions
            },
            "domains": list(self.domains),
            "timeoutMs": self.timeout_ms,
            "memoryBytes": self.memory_bytes,
            "cpuMillis": self.cpu_millis,
            "sandbox": self.sandbox,
            "residency": dict(self.residency),
            "retry": dict(self.retry),
            "circuitBreaker": dict(self.circuit_breaker),
            "budget": dict(self.budget) if self.budget is not None else None,
            "concurrency": self.concurrency,
            "model": dict(self.model) if self.model is not None else None,
            "costPerCall": self.cost_per_call,
        }

    @property
    def hash(self) -> str:
        """``sha256:`` over the RFC 8785 form of `content`."""
        return sha256_digest(canonical_json(self.content()))

    def to_json(self) -> dict[str, Any]:
        """The profile as `profiles/<id>.json` holds it: content, hash and provenance."""
        return {
            **self.content(),
            "hash": self.hash,
            "provenance": {
                name: [origin.to_json() for origin in origins] for name, origins in self.provenance
            },
        }
