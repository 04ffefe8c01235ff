"""Builders for tool-call tests: an ExecProfile, a ToolSpec and a ToolCall in one line each.

Every argument has a default that allows nothing beyond what the test names: no domains, no
permissions, residency off, a 5 s timeout, 256 MiB, half a CPU, the process sandbox.
"""

from __future__ import annotations

import json
from typing import Any

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.plan import NO_RETRY
from agentflow.bundle.profile import (
    CircuitBreaker,
    ExecProfile,
    Permission,
    Residency,
    ResidencyMode,
    Sandbox,
)
from agentflow.bundle.secrets import Text
from agentflow.bundle.tool import McpTarget, ToolSpec, ToolType
from agentflow.runtime.tools.base import ToolCall

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def profile(
    *,
    domains: tuple[str, ...] = (),
    permissions: dict[str, Permission] | None = None,
    residency: ResidencyMode = "off",
    egress: tuple[str, ...] | None = None,
    timeout_ms: int = 5000,
    memory_bytes: int = 256 * 1024 * 1024,
    cpu_millis: int = 500,
    sandbox: Sandbox = "process",
    failure_threshold: int = 3,
    reset_after_ms: int = 30_000,
    agent: str = "researcher",
    tool: str = "kb-search",
) -> ExecProfile:
    granted = dict(permissions or {})
    if domains and "network.http" not in granted:
        granted["network.http"] = domains
    return ExecProfile(
        agent=agent,
        tool=tool,
        environment="test",
        permissions=tuple(sorted(granted.items())),
        domains=tuple(sorted(domains)),
        timeout_ms=timeout_ms,
        memory_bytes=memory_bytes,
        cpu_millis=cpu_millis,
        sandbox=sandbox,
        residency=Residency(
            mode=residency,
            region=None,
            egress_allow_list=egress,
            agent_region=None,
            agent_strict=False,
        ),
        retry=NO_RETRY,
        circuit_breaker=CircuitBreaker(
            failure_threshold=failure_threshold, reset_after_ms=reset_after_ms
        ),
        budget=None,
        concurrency=1,
        model=None,
        cost_per_call=None,
    )


def tool(
    *,
    type: ToolType = "http",
    endpoint: str | None = None,
    entrypoint: str | None = None,
    mcp: McpTarget | None = None,
    headers: dict[str, Text] | None = None,
    input_schema: Any = None,
    output_schema: Any = None,
    name: str = "kb-search",
) -> ToolSpec:
    return ToolSpec(
        name=name,
        version="1.0.0",
        type=type,
        endpoint=endpoint,
        mcp=mcp,
        entrypoint=entrypoint,
        headers=tuple(sorted((headers or {}).items())),
        input_schema=None if input_schema is None else _text(input_schema),
        output_schema=None if output_schema is None else _text(output_schema),
    )


def call(
    spec: ToolSpec,
    under: ExecProfile,
    input: Any = None,
    *,
    key: str = "run-1:step-1:1",
    timeout_ms: int | None = None,
) -> ToolCall:
    return ToolCall(
        tool=spec,
        profile=under,
        input={"query": "refund"} if input is None else input,
        idempotency_key=key,
        traceparent=TRACEPARENT,
        timeout_ms=under.timeout_ms if timeout_ms is None else timeout_ms,
    )


def _text(value: Any) -> str:
    return canonical_json(json.loads(json.dumps(value))).decode()
