"""The dispatcher: breaker → input schema → egress → call by type → output schema."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentflow.bundle.profile import ExecProfile
from agentflow.bundle.secrets import SecretRef
from agentflow.bundle.tool import McpTarget, ToolSpec
from agentflow.runtime.secrets import EnvSecrets
from agentflow.runtime.tools.base import Json, ToolCall, ToolError
from agentflow.runtime.tools.callers import ToolCallers
from agentflow.runtime.tools.python import PythonToolCaller
from tests.runtime.fakes.clock import FakeClock
from tests.runtime.fakes.tool_server import CountingListener, ToolServer
from tests.runtime.fakes.tools import call, profile, tool

pytestmark = pytest.mark.loopback

TOKEN = "tok-5a4b3c2d1e"
QUERY_SCHEMA = {
    "type": "object",
    "properties": {"query": {"type": "string"}},
    "required": ["query"],
}
LOOPBACK = profile(domains=("127.0.0.1",), failure_threshold=3, reset_after_ms=1000)


class FakeMcp:
    """Stands in for the MCP caller another module provides."""

    def __init__(self) -> None:
        self.calls: list[ToolCall] = []

    async def call(self, call: ToolCall) -> Json:
        self.calls.append(call)
        return {"via": "mcp", "tool": call.tool.mcp.tool if call.tool.mcp else None}


def callers(clock: FakeClock | None = None, mcp: FakeMcp | None = None) -> ToolCallers:
    secrets = EnvSecrets(environ={"AF_SECRET_KB_TOKEN": TOKEN}, secrets_dir=None)
    return ToolCallers(secrets, clock or FakeClock(), mcp=mcp)


def send(via: ToolCallers, spec: ToolSpec, under: ExecProfile, value: Any = None, **kw: Any) -> Any:
    return asyncio.run(via.call(call(spec, under, value, **kw)))


def failure(via: ToolCallers, spec: ToolSpec, under: ExecProfile, value: Any = None) -> ToolError:
    with pytest.raises(ToolError) as caught:
        send(via, spec, under, value)
    return caught.value


def test_bad_input_is_refused_before_anything_is_called(tool_server: ToolServer) -> None:
    spec = tool(endpoint=tool_server.url("/echo"), input_schema=QUERY_SCHEMA)
    error = failure(callers(), spec, LOOPBACK, {"query": 42})
    assert error.kind == "invalid-input" and not error.retryable
    assert "at $.query: 42 is not of type 'string'" in str(error)
    assert tool_server.requests == []


def test_the_input_is_checked_before_egress(listener: CountingListener) -> None:
    spec = tool(endpoint="https://evil.example.net/", input_schema=QUERY_SCHEMA)
    assert failure(callers(), spec, LOOPBACK, {}).kind == "invalid-input"


def test_egress_is_checked_before_the_call(listener: CountingListener) -> None:
    spec = tool(endpoint=listener.url(), input_schema=QUERY_SCHEMA)
    error = failure(callers(), spec, profile(domains=("kb.example.com",)))
    assert error.kind == "refused" and listener.accepted() == 0


def test_output_that_breaks_the_schema_is_invalid_output_with_its_path(
    tool_server: ToolServer,
) -> None:
    schema = {"type": "object", "properties": {"input": {"type": "array"}}}
    error = failure(
        callers(), tool(endpoint=tool_server.url("/echo"), output_schema=schema), LOOPBACK
    )
    assert error.kind == "invalid-output"
    assert "at $.input: {'query': 'refund'} is not of type 'array'" in str(error)


def test_a_secret_quoted_by_a_schema_error_is_masked(tool_server: ToolServer) -> None:
    """/echo answers the request's headers; the output schema wants a number where the
    Authorization header is, so jsonschema quotes the secret in its message."""
    schema = {
        "type": "object",
        "properties": {
            "headers": {"type": "object", "properties": {"authorization": {"type": "integer"}}}
        },
    }
    spec = tool(
        endpoint=tool_server.url("/echo"),
        headers={"Authorization": SecretRef("kb-token")},
        output_schema=schema,
    )
    error = failure(callers(), spec, LOOPBACK)
    assert error.kind == "invalid-output"
    assert TOKEN not in str(error) and "'***' is not of type 'integer'" in str(error)


def test_redeliveries_carry_one_key_so_the_tool_can_deduplicate(tool_server: ToolServer) -> None:
    """The tool fails twice, then answers: three deliveries of one attempt, all with the same
    key, which is what lets the tool deduplicate; the success resets the breaker's count."""
    via = callers()
    spec = tool(endpoint=tool_server.url("/flaky?fail=2"))
    key = "run-3:lookup:1"
    errors = []
    for _attempt in range(5):
        try:
            answer = send(via, spec, LOOPBACK, key=key)
            break
        except ToolError as error:
            assert error.kind == "unavailable" and error.retryable
            errors.append(error)
    assert answer == {"ok": True, "call": 3} and len(errors) == 2
    assert tool_server.calls_by_key == {key: 3}
    assert via.breakers.state(LOOPBACK.id).failures == 0


def test_the_circuit_opens_refuses_without_calling_then_lets_one_trial_through(
    tool_server: ToolServer,
) -> None:
    clock = FakeClock()
    via = callers(clock)
    failing = tool(endpoint=tool_server.url("/status?code=503"))
    for _ in range(3):
        assert failure(via, failing, LOOPBACK).kind == "unavailable"
    assert len(tool_server.requests) == 3
    error = failure(via, failing, LOOPBACK)
    assert error.kind == "circuit-open" and error.retryable
    assert len(tool_server.requests) == 3, "an open circuit calls nothing"
    clock.now += 1000
    assert send(via, tool(endpoint=tool_server.url("/echo")), LOOPBACK)["method"] == "POST"
    assert len(tool_server.requests) == 4
    assert via.breakers.state(LOOPBACK.id).opened_at_ms is None


def test_the_breaker_comes_first(tool_server: ToolServer) -> None:
    clock = FakeClock()
    via = callers(clock)
    failing = tool(endpoint=tool_server.url("/status?code=500"), input_schema=QUERY_SCHEMA)
    for _ in range(3):
        failure(via, failing, LOOPBACK)
    assert failure(via, failing, LOOPBACK, {"query": 1}).kind == "circuit-open"


def test_refusals_and_bad_input_do_not_count_against_the_tool(listener: CountingListener) -> None:
    via = callers()
    for _ in range(5):
        failure(via, tool(endpoint="https://evil.example.net/"), LOOPBACK)
        failure(via, tool(endpoint=listener.url(), input_schema=QUERY_SCHEMA), LOOPBACK, {})
    assert via.breakers.state(LOOPBACK.id).failures == 0


def test_mcp_tools_go_to_the_injected_caller_after_the_egress_check() -> None:
    mcp = FakeMcp()
    via = callers(mcp=mcp)
    spec = tool(type="mcp", mcp=McpTarget(server="https://mcp.example.com/mcp", tool="search"))
    assert send(via, spec, profile(domains=("mcp.example.com",))) == {
        "via": "mcp",
        "tool": "search",
    }
    error = failure(via, spec, profile(domains=("kb.example.com",)))
    assert error.kind == "refused" and len(mcp.calls) == 1


def test_without_an_mcp_caller_an_mcp_tool_is_unavailable_and_not_retryable() -> None:
    via = callers()
    spec = tool(type="mcp", mcp=McpTarget(server="https://mcp.example.com/mcp", tool="search"))
    error = failure(via, spec, profile(domains=("mcp.example.com",)))
    assert error.kind == "unavailable" and not error.retryable and "mcp" in str(error)


def test_python_tools_go_through_the_same_checks() -> None:
    fixtures = str(Path(__file__).resolve().parent / "fixtures")
    via = ToolCallers(
        EnvSecrets(environ={}, secrets_dir=None),
        FakeClock(),
        python=PythonToolCaller(tools_path=(fixtures,)),
    )
    spec = tool(type="python", entrypoint="af_sample_tools:echo", input_schema=QUERY_SCHEMA)
    assert send(via, spec, profile(), {"query": "q"}) == {"echo": {"query": "q"}}
    assert failure(via, spec, profile(), {"query": 1}).kind == "invalid-input"
