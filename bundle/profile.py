"""ExecProfiles as the bundle holds them (``profiles/<id>.json``): what one step may do.

The compiler derives them (`agentflow.compiler.plan.profiles`); the runtime enforces them. This
type is the contract both sides share: written by `ExecProfile.to_json`, read back, typed and
with its hash checked, by `profile_from_json`, described by ``schemas/profile.schema.json``.
Every value is canonical: lists sorted, durations in milliseconds, memory in bytes, CPU in
millicores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

from agentflow.bundle.canonical import canonical_json, sha256_digest
from agentflow.bundle.plan import RetryPlan
from agentflow.bundle.plan_json import retry_from_json, retry_to_json
from agentflow.bundle.secrets import SecretRef, text_from_json

Sandbox = Literal["gvisor", "docker", "process"]
SANDBOX_STRENGTH: Mapping[str, int] = MappingProxyType({"process": 0, "docker": 1, "gvisor": 2})
"""Stronger isolation, higher number: `af diff` calls a step down a weakening."""
ResidencyMode = Literal["strict", "lenient", "off"]
OriginKind = Literal["tool", "agent", "role", "policy", "environment", "default"]
Permission = tuple[str, ...] | Literal[True]
"""An allow-list (domains, paths, scopes, resources), or ``True`` for a yes/no permission."""


class ProfileFormatError(ValueError):
    """A profile file of the wrong shape, or whose content does not match its hash."""


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Residency:
    """Where a step's data may go: the environment's mode, region and egress allow-list."""

    mode: ResidencyMode
    region: str | None
    egress_allow_list: tuple[str, ...] | None
    """Hosts tools may reach under strict or lenient residency (sorted); None: unrestricted
    beyond what the role grants."""
    agent_region: str | None
    agent_strict: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "region": self.region,
            "egressAllowList": _list_or_none(self.egress_allow_list),
            "agentRegion": self.agent_region,
            "agentStrict": self.agent_strict,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreaker:
    failure_threshold: int
    """Failures in a row that open the circuit."""
    reset_after_ms: int
    """How long it stays open before one call may try again."""

    def to_json(self) -> dict[str, Any]:
        return {"failureThreshold": self.failure_threshold, "resetAfterMs": self.reset_after_ms}


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    tokens: int | None
    dollars: float | None
    period: Literal["hour", "day", "week", "month"]

    def to_json(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "dollars": self.dollars, "period": self.period}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSettings:
    """The agent's model: which provider serves it and how it is called."""

    provider: str
    name: str
    temperature: float
    max_tokens: int | None
    base_url: str | None = None
    """Where the provider's OpenAI-compatible API is, in the environment compiled for (its
    ``providers``); None when that environment names no endpoint for the provider."""
    api_key: SecretRef | None = None
    """The provider's API key, by reference."""

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "name": self.name,
            "temperature": self.temperature,
            "maxTokens": self.max_tokens,
            "baseUrl": self.base_url,
            "apiKey": self.api_key.to_json() if self.api_key is not None else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecProfile:
    """What one step may do: one (agent, tool) pair, or an agent's own model calls."""

    agent: str
    tool: str | None
    """None for the agent's own work (its model calls)."""
    environment: str | None
    """The environment it was compiled for (``--env``), or None."""
    permissions: tuple[tuple[str, Permission], ...]
    """Each permission the tool needs and the agent's role grants, by name, sorted."""
    domains: tuple[str, ...]
    """Every host the step may reach (the union of the domain permissions), sorted."""
    timeout_ms: int
    """Effective timeout of one call, already clamped to the policy limit."""
    memory_bytes: int
    cpu_millis: int
    sandbox: Sandbox
    residency: Residency
    retry: RetryPlan
    """The agent's retry policy, attempts clamped to the policy's ``maxRetries``."""
    circuit_breaker: CircuitBreaker
    budget: Budget | None
    concurrency: int
    """Steps of this agent that may run at the same time."""
    model: ModelSettings | None
    cost_per_call: float | None
    provenance: tuple[tuple[str, tuple[Origin, ...]], ...] = field(default=(), compare=False)
    """Where each field's value came from, by field name. Not hashed: a cosmetic edit moves
    lines, and a plan-cache key must not move with them."""

    @property
    def id(self) -> str:
        return profile_id(self.agent, self.tool)

    def permission(self, name: str) -> Permission | None:
        return dict(self.permissions).get(name)

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
            "residency": self.residency.to_json(),
            "retry": retry_to_json(self.retry),
            "circuitBreaker": self.circuit_breaker.to_json(),
            "budget": self.budget.to_json() if self.budget is not None else None,
            "concurrency": self.concurrency,
            "model": self.model.to_json() if self.model is not None else None,
            "costPerCall": self.cost_per_call,
        }

    @property
    def hash(self) -> str:
        """``sha256:`` over the RFC 8785 form of `content`."""
        return sha256_digest(canonical_json(self.content()))

    def to_json(self) -> dict[str, Any]:
        """The profile as ``profiles/<id>.json`` holds it: content, hash and provenance."""
        return {
            **self.content(),
            "hash": self.hash,
            "provenance": {
                name: [origin.to_json() for origin in origins] for name, origins in self.provenance
            },
        }


def profile_from_json(data: Any) -> ExecProfile:
    """The profile a ``profiles/<id>.json`` holds; the inverse of `ExecProfile.to_json`.

    Raises `ProfileFormatError` for a document of the wrong shape, or one whose ``hash`` or
    ``id`` does not match its content (an edited profile).
    """
    try:
        profile = _read_profile(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        name = data.get("id") if isinstance(data, dict) else None
        raise ProfileFormatError(f"profile {name!r} is malformed: {error!r}") from None
    if data.get("id") != profile.id or data.get("hash") != profile.hash:
        raise ProfileFormatError(f"profile {profile.id!r} does not match its hash (edited?)")
    return profile


def _read_profile(data: dict[str, Any]) -> ExecProfile:
    residency, breaker = data["residency"], data["circuitBreaker"]
    budget, model = data["budget"], data["model"]
    return ExecProfile(
        agent=_str(data["agent"]),
        tool=_optional(data["tool"], str),
        environment=_optional(data["environment"], str),
        permissions=tuple(
            (str(name), value if value is True else tuple(map(_str, value)))
            for name, value in sorted(data["permissions"].items())
        ),
        domains=tuple(map(_str, data["domains"])),
        timeout_ms=_int(data["timeoutMs"]),
        memory_bytes=_int(data["memoryBytes"]),
        cpu_millis=_int(data["cpuMillis"]),
        sandbox=cast(Sandbox, _choice(data["sandbox"], SANDBOX_STRENGTH)),
        residency=Residency(
            mode=cast(ResidencyMode, _choice(residency["mode"], ("strict", "lenient", "off"))),
            region=_optional(residency["region"], str),
            egress_allow_list=_optional_list(residency["egressAllowList"]),
            agent_region=_optional(residency["agentRegion"], str),
            agent_strict=_bool(residency["agentStrict"]),
        ),
        retry=retry_from_json(data["retry"]),
        circuit_breaker=CircuitBreaker(
            failure_threshold=_int(breaker["failureThreshold"]),
            reset_after_ms=_int(breaker["resetAfterMs"]),
        ),
        budget=None
        if budget is None
        else Budget(
            tokens=_optional(budget["tokens"], int),
            dollars=_optional(budget["dollars"], float),
            period=budget["period"],
        ),
        concurrency=_int(data["concurrency"]),
        model=None
        if model is None
        else ModelSettings(
            provider=_str(model["provider"]),
            name=_str(model["name"]),
            temperature=float(model["temperature"]),
            max_tokens=_optional(model["maxTokens"], int),
            base_url=_optional(model["baseUrl"], str),
            api_key=_secret(model["apiKey"]),
        ),
        cost_per_call=_optional(data["costPerCall"], float),
        provenance=tuple(
            (str(name), tuple(_origin(o) for o in origins))
            for name, origins in sorted(data.get("provenance", {}).items())
        ),
    )


def _origin(data: dict[str, Any]) -> Origin:
    return Origin(
        kind=data["from"],
        resource=str(data.get("resource", "")),
        field=str(data["field"]),
        file=str(data.get("file", "")),
        line=_int(data.get("line", 0)),
        note=str(data.get("note", "")),
    )


def _secret(value: Any) -> SecretRef | None:
    if value is None:
        return None
    text = text_from_json(value)
    if not isinstance(text, SecretRef):
        raise TypeError("an API key must be a secret reference, never a value")
    return text


def _list_or_none(items: tuple[str, ...] | None) -> list[str] | None:
    return list(items) if items is not None else None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {value!r}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, found {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, found {value!r}")
    return value


def _optional(value: Any, kind: type[Any]) -> Any:
    if value is None:
        return None
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"expected a {kind.__name__} or null, found {value!r}")
    return value


def _optional_list(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(map(_str, value))


def _choice(value: Any, allowed: Any) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)
