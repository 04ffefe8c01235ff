"""Bundle pieces for runtime tests: ExecProfiles and ToolSpecs as a compiled bundle holds them."""

from __future__ import annotations

import json
from typing import Any

from agentflow.bundle.plan import NO_RETRY
from agentflow.bundle.profile import (
    CircuitBreaker,
    ExecProfile,
    ModelSettings,
    Residency,
)
from agentflow.bundle.secrets import SecretRef, Text
from agentflow.bundle.tool import McpTarget, ToolSpec


def exec_profile(
    agent: str,
    tool: str | None = None,
    *,
    timeout_ms: int = 5_000,
    domains: tuple[str, ...] = ("127.0.0.1",),
    model: ModelSettings | None = None,
    cost_per_call: float | None = None,
) -> ExecProfile:
    return ExecProfile(
        agent=agent,
        tool=tool,
        environment="dev",
        permissions=(("network.http", domains),),
        domains=domains,
        timeout_ms=timeout_ms,
        memory_bytes=256 * 2**20,
        cpu_millis=500,
        sandbox="process",
        residency=Residency(
            mode="off", region=None, egress_allow_list=None, agent_region=None, agent_strict=False
        ),
        retry=NO_RETRY,
        circuit_breaker=CircuitBreaker(failure_threshold=5, reset_after_ms=30_000),
        budget=None,
        concurrency=1,
        model=model,
        cost_per_call=cost_per_call,
    )


def model_settings(
    base_url: str | None,
    *,
    api_key: str | None = "openai-key",
    max_tokens: int | None = 256,
    temperature: float = 0.1,
) -> ModelSettings:
    return ModelSettings(
        provider="openai",
        name="gpt-4o-mini",
        temperature=temperature,
        max_tokens=max_tokens,
        base_url=base_url,
        api_key=SecretRef(api_key) if api_key is not None else None,
    )


def mcp_tool(
    server: str,
    tool: str,
    *,
    name: str = "kb-search",
    headers: tuple[tuple[str, Text], ...] = (),
    input_schema: Any = None,
) -> ToolSpec:
    return ToolSpec(
        name=name,
        version="1.0.0",
        type="mcp",
        endpoint=None,
        mcp=McpTarget(server=server, tool=tool),
        entrypoint=None,
        headers=headers,
        input_schema=None if input_schema is None else json.dumps(input_schema, sort_keys=True),
        output_schema=None,
    )


def http_tool(name: str, *, input_schema: Any = None) -> ToolSpec:
    return ToolSpec(
        name=name,
        version="2.1.0",
        type="http",
        endpoint=f"http://127.0.0.1:9/{name}",
        mcp=None,
        entrypoint=None,
        headers=(),
        input_schema=None if input_schema is None else json.dumps(input_schema, sort_keys=True),
        output_schema=None,
    )


class DictSecrets:
    """Secrets from a dict; a missing name raises KeyError, as a store would refuse."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def resolve(self, name: str) -> str:
        return self._values[name]
