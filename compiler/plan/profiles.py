"""ExecProfiles: what one agent may do with one tool, derived and fixed at compile time.   AF6xx

Input: the `Index`, the policies in force (the repository's and the selected packs') and the
environment being compiled for (``--env``; none: an anonymous one with residency ``"off"``).
Output: one frozen `ExecProfile` per (agent, tool) pair that some workflow can reach, by id.

Each field of a profile is derived from named sources, and each records them (`Origin`), so a
reviewer can trace a value to the line that set it:

- ``permissions``/``domains``: the tool's needs (an MCP tool's server host included), each
  granted by the agent's role; a need the role does not grant is AF602 (`policy.roles`) and is
  left out here, never widened.
- ``timeoutMs``, ``memoryBytes``, ``cpuMillis``: the tool's values or the defaults below,
  clamped to the strictest policy ``limits``.
- ``sandbox``: the environment's, else the strongest policy ``sandbox.default``, else gvisor.
- ``residency``: the environment's mode, region and egress allow-list, and the agent's region.
- ``retry`` (the agent's, clamped to ``maxRetries``), ``circuitBreaker`` (the tool's, or the
  defaults), ``budget`` and ``concurrency`` (the agent's), ``model`` (the agent's, with the
  ``baseUrl`` and ``apiKey`` reference the environment's ``providers`` give its provider; both
  None without ``--env`` or without an entry for the provider).

The profile's ``hash`` covers every field but the provenance (file lines move with cosmetic
edits; a plan-cache key must not). The environment's constraints are checked in
`plan.environment`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from agentflow.bundle.plan import NO_RETRY, RetryPlan
from agentflow.bundle.profile import (
    SANDBOX_STRENGTH,
    Budget,
    CircuitBreaker,
    ExecProfile,
    ModelSettings,
    Origin,
    OriginKind,
    Permission,
    Residency,
    Sandbox,
)
from agentflow.bundle.secrets import SecretRef
from agentflow.compiler.check.environment import TargetEnvironment
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.permissions import DOMAIN_PERMISSIONS
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.agent import AgentSpec
from agentflow.compiler.model.policy import PolicySpec
from agentflow.compiler.model.project import Environment
from agentflow.compiler.model.tool import ToolSpec
from agentflow.compiler.model.units import duration_ms, quantity
from agentflow.compiler.plan.retry import clamp_attempts, normalize_retry
from agentflow.compiler.policy.grants import ungranted
from agentflow.compiler.policy.roles import (
    Limit,
    memory_limit,
    retries_limit,
    timeout_limit,
    tool_needs,
)

DEFAULT_TIMEOUT = "30s"
DEFAULT_MEMORY = "512Mi"
DEFAULT_CPU = "1"
DEFAULT_SANDBOX: Sandbox = "gvisor"
DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_RESET_AFTER = "30s"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _at(kind: OriginKind, resource: Resource[object], path: YamlPath, note: str = "") -> Origin:
    return Origin(
        kind,
        f"{resource.kind}/{resource.name}",
        field_path(path),
        resource.file,
        resource.doc.span(path).line,
        note,
    )


def field_path(path: YamlPath) -> str:
    """``spec.permissions["network.http"]``: dotted, with keys that hold dots quoted."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _IDENTIFIER.fullmatch(step):
            out += f".{step}" if out else step
        else:
            out += f'["{step}"]'
    return out


def _default(name: str) -> Origin:
    return Origin("default", "", name)


# --- derivation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Limits:
    timeout: Limit | None
    memory: Limit | None
    retries: Limit | None


def derive_profiles(
    index: Index,
    pairs: Iterable[tuple[str, str | None]],
    policies: tuple[Resource[PolicySpec], ...],
    target: TargetEnvironment,
) -> Mapping[str, ExecProfile]:
    """The profile of each (agent, tool) pair some plan reaches (`queries.reachable_pairs`), by
    id. Pairs whose agent or tool is unknown are left out (AF3xx says why)."""
    environment, env = target.name, target.spec
    limits = _Limits(timeout_limit(policies), memory_limit(policies), retries_limit(policies))
    sandbox, sandbox_origin = effective_sandbox(index, policies, environment, env)
    profiles: dict[str, ExecProfile] = {}
    resolved = sorted(
        (
            (agent, tool)
            for agent, tool in set(pairs)
            if index.get("Agent", agent) is not None
            and (tool is None or index.get("Tool", tool) is not None)
        ),
        key=lambda pair: (pair[0], pair[1] or ""),
    )
    for agent_name, tool_name in resolved:
        agent = index.get("Agent", agent_name)
        assert agent is not None
        tool = index.get("Tool", tool_name) if tool_name is not None else None
        builder = _Builder(index, agent, tool, environment, env, limits)
        profile = builder.build(sandbox, sandbox_origin)
        profiles[profile.id] = profile
    return MappingProxyType(profiles)


class _Builder:
    """One profile: each field with the origins that decided it."""

    def __init__(
        self,
        index: Index,
        agent: Resource[AgentSpec],
        tool: Resource[ToolSpec] | None,
        environment: str | None,
        env: Environment | None,
        limits: _Limits,
    ) -> None:
        self.index, self.agent, self.tool = index, agent, tool
        self.environment, self.env, self.limits = environment, env, limits
        self.origins: dict[str, list[Origin]] = {}

    def note(self, name: str, *origins: Origin) -> None:
        self.origins.setdefault(name, []).extend(origins)

    def build(self, sandbox: Sandbox, sandbox_origin: Origin) -> ExecProfile:
        self.note("sandbox", sandbox_origin)
        permissions = self._permissions()
        return ExecProfile(
            agent=self.agent.name,
            tool=self.tool.name if self.tool is not None else None,
            environment=self.environment,
            permissions=permissions,
            domains=tuple(
                sorted(
                    {
                        domain
                        for name, value in permissions
                        if name in DOMAIN_PERMISSIONS and isinstance(value, tuple)
                        for domain in value
                    }
                )
            ),
            timeout_ms=self._timeout(),
            memory_bytes=self._memory(),
            cpu_millis=self._cpu(),
            sandbox=sandbox,
            residency=self._residency(),
            retry=self._retry(),
            circuit_breaker=self._circuit_breaker(),
            budget=self._budget(),
            concurrency=self._concurrency(),
            model=self._model(),
            cost_per_call=self._cost(),
            provenance=tuple((name, tuple(o)) for name, o in sorted(self.origins.items())),
        )

    def _permissions(self) -> tuple[tuple[str, Permission], ...]:
        if self.tool is None:
            return ()
        role_ref = self.index.roles.get(self.agent.spec.role or "")
        role = role_ref.policy.spec.roles[role_ref.name] if role_ref is not None else None
        effective: dict[str, Permission] = {}
        for name, need, path in tool_needs(self.tool):
            grant = role.permissions.get(name) if role is not None else None
            missing = set(ungranted(name, need, grant))
            if isinstance(need, bool):
                if need and not missing:
                    effective[name] = True
            else:
                items = [str(n) for n in need] if isinstance(need, list | tuple) else []
                kept = tuple(sorted(set(items) - missing))
                if not kept:
                    continue
                previous = effective.get(name)
                merged = set(previous) if isinstance(previous, tuple) else set()
                effective[name] = tuple(sorted(merged | set(kept)))
            self.note(f"permissions.{name}", _at("tool", self.tool, path))
            if role_ref is not None:
                role_path = ("spec", "roles", role_ref.name, "permissions", name)
                self.note(f"permissions.{name}", _at("role", role_ref.policy, role_path))
        return tuple(sorted(effective.items()))

    def _timeout(self) -> int:
        declared = self.tool.spec.timeout if self.tool is not None else None
        if declared is not None and self.tool is not None:
            value = duration_ms(declared)
            self.note("timeoutMs", _at("tool", self.tool, ("spec", "timeout")))
        else:
            value = duration_ms(DEFAULT_TIMEOUT)
            self.note("timeoutMs", _default(f"timeout {DEFAULT_TIMEOUT}"))
        return int(self._clamp("timeoutMs", Decimal(value), self.limits.timeout))

    def _memory(self) -> int:
        resources = self.tool.spec.resources if self.tool is not None else None
        if resources is not None and resources.memory is not None and self.tool is not None:
            value = quantity(resources.memory)
            self.note("memoryBytes", _at("tool", self.tool, ("spec", "resources", "memory")))
        else:
            value = quantity(DEFAULT_MEMORY)
            self.note("memoryBytes", _default(f"memory {DEFAULT_MEMORY}"))
        return int(self._clamp("memoryBytes", value, self.limits.memory))

    def _cpu(self) -> int:
        resources = self.tool.spec.resources if self.tool is not None else None
        if resources is not None and resources.cpu is not None and self.tool is not None:
            self.note("cpuMillis", _at("tool", self.tool, ("spec", "resources", "cpu")))
            return int(quantity(resources.cpu) * 1000)
        self.note("cpuMillis", _default(f"cpu {DEFAULT_CPU}"))
        return int(quantity(DEFAULT_CPU) * 1000)

    def _clamp(self, name: str, value: Decimal, limit: Limit | None) -> Decimal:
        if limit is None or value <= limit.value:
            return value
        self.note(name, _at("policy", limit.policy, limit.path, f"clamped to {limit.text}"))
        return limit.value

    def _residency(self) -> Residency:
        env = self.env
        agent_residency = self.agent.spec.residency
        out = Residency(
            mode=env.residency if env is not None else "off",
            region=env.region if env is not None else None,
            egress_allow_list=(
                tuple(sorted(env.egress)) if env is not None and env.egress is not None else None
            ),
            agent_region=agent_residency.region if agent_residency is not None else None,
            agent_strict=bool(agent_residency.strict) if agent_residency is not None else False,
        )
        project = self.index.project
        if env is not None and project is not None and self.environment is not None:
            path = ("spec", "environments", self.environment)
            self.note("residency", _at("environment", project, path))
        if agent_residency is not None:
            self.note("residency", _at("agent", self.agent, ("spec", "residency")))
        return out

    def _retry(self) -> RetryPlan:
        retry = self.agent.spec.retry
        if retry is None:
            self.note("retry", _default("retry: 1 attempt"))
            return NO_RETRY
        self.note("retry", _at("agent", self.agent, ("spec", "retry")))
        normalized = normalize_retry(retry)
        limit = self.limits.retries
        if limit is None:
            return normalized
        clamped = clamp_attempts(normalized, int(limit.value))
        if clamped != normalized:
            note = f"clamped to {clamped.max_attempts}"
            self.note("retry", _at("policy", limit.policy, limit.path, note))
        return clamped

    def _circuit_breaker(self) -> CircuitBreaker:
        breaker = self.tool.spec.circuit_breaker if self.tool is not None else None
        if breaker is None or self.tool is None:
            self.note(
                "circuitBreaker",
                _default(
                    f"{DEFAULT_FAILURE_THRESHOLD} failures, reset after {DEFAULT_RESET_AFTER}"
                ),
            )
            return CircuitBreaker(
                failure_threshold=DEFAULT_FAILURE_THRESHOLD,
                reset_after_ms=duration_ms(DEFAULT_RESET_AFTER),
            )
        self.note("circuitBreaker", _at("tool", self.tool, ("spec", "circuitBreaker")))
        return CircuitBreaker(
            failure_threshold=breaker.failure_threshold,
            reset_after_ms=duration_ms(breaker.reset_after),
        )

    def _budget(self) -> Budget | None:
        budget = self.agent.spec.budget
        if budget is None:
            return None
        self.note("budget", _at("agent", self.agent, ("spec", "budget")))
        return Budget(tokens=budget.tokens, dollars=budget.dollars, period=budget.period)

    def _concurrency(self) -> int:
        path = ("spec", "concurrency")
        if path in self.agent.doc.value_spans:
            self.note("concurrency", _at("agent", self.agent, path))
        else:
            self.note("concurrency", _default("concurrency 1"))
        concurrency: int = self.agent.spec.concurrency
        return concurrency

    def _model(self) -> ModelSettings | None:
        model = self.agent.spec.model
        if model is None:
            return None
        self.note("model", _at("agent", self.agent, ("spec", "model")))
        provider = self.env.providers.get(model.provider) if self.env is not None else None
        project = self.index.project
        if provider is not None and project is not None and self.environment is not None:
            path = ("spec", "environments", self.environment, "providers", model.provider)
            self.note("model", _at("environment", project, path))
        api_key = provider.api_key if provider is not None else None
        return ModelSettings(
            provider=model.provider,
            name=model.name,
            temperature=model.temperature,
            max_tokens=model.max_tokens,
            base_url=provider.base_url if provider is not None else None,
            api_key=SecretRef(api_key.secret_ref) if api_key is not None else None,
        )

    def _cost(self) -> float | None:
        cost = self.tool.spec.cost if self.tool is not None else None
        if cost is None or self.tool is None:
            return None
        self.note("costPerCall", _at("tool", self.tool, ("spec", "cost", "perCall")))
        per_call: float = cost.per_call
        return per_call


def effective_sandbox(
    index: Index,
    policies: tuple[Resource[PolicySpec], ...],
    name: str | None,
    env: Environment | None,
) -> tuple[Sandbox, Origin]:
    """The environment's sandbox, else the strongest policy default, else gvisor."""
    project = index.project
    if env is not None and env.sandbox is not None and project is not None and name is not None:
        return env.sandbox, _at("environment", project, ("spec", "environments", name, "sandbox"))
    defaults = [(p.spec.sandbox.default, p) for p in policies if p.spec.sandbox is not None]
    if defaults:
        value, policy = max(defaults, key=lambda d: SANDBOX_STRENGTH[d[0]])
        return value, _at("policy", policy, ("spec", "sandbox", "default"))
    return DEFAULT_SANDBOX, _default(f"sandbox {DEFAULT_SANDBOX}")
