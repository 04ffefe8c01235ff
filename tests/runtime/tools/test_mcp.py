"""MCP tools against a real MCP server (the SDK's own) over streamable HTTP on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from agentflow.bundle.profile import ExecProfile
from agentflow.bundle.secrets import SecretRef
from agentflow.bundle.tool import ToolSpec
from agentflow.runtime.tools.base import ToolCall, ToolError
from agentflow.runtime.tools.mcp import McpCaller
from tests.runtime.fakes.bundle_parts import DictSecrets, exec_profile, mcp_tool
from tests.runtime.fakes.mcp_server import FakeMcpServer, serve_mcp

pytestmark = pytest.mark.loopback

TOKEN = "kb-token-value-4f1e9c"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class AllowListed:
    """Allows a URL whose host is one of the profile's domains (the egress check's stand-in)."""

    def __init__(self) -> None:
        self.checked: list[str] = []

    def check(self, url: str, profile: ExecProfile) -> None:
        self.checked.append(url)
        if urlsplit(url).hostname not in profile.domains:
            raise ToolError("refused", f"{url} is outside the profile", retryable=False)


@pytest.fixture
def server() -> Iterator[FakeMcpServer]:
    with serve_mcp() as fake:
        yield fake


def _call(
    tool: ToolSpec,
    arguments: Any,
    *,
    key: str = "run1:classify:1",
    timeout_ms: int = 5_000,
    profile: ExecProfile | None = None,
    secrets: dict[str, str] | None = None,
) -> Any:
    caller = McpCaller(
        secrets=DictSecrets({"kb-token": TOKEN} if secrets is None else secrets),
        hosts=AllowListed(),
    )
    call = ToolCall(
        tool=tool,
        profile=profile or exec_profile("researcher", tool.name),
        input=arguments,
        idempotency_key=key,
        traceparent=TRACEPARENT,
        timeout_ms=timeout_ms,
    )
    return asyncio.run(caller.call(call))


def _fails(tool: ToolSpec, arguments: Any, **options: Any) -> ToolError:
    with pytest.raises(ToolError) as raised:
        _call(tool, arguments, **options)
    return raised.value


def test_structured_content_is_the_output_and_the_headers_arrive(server: FakeMcpServer) -> None:
    headers = (("Authorization", SecretRef("kb-token")), ("X-Team", "support"))
    tool = mcp_tool(server.url, "echo", headers=headers)

    assert _call(tool, {"query": "reset password"}) == {"echo": {"query": "reset password"}}

    (seen,) = server.calls
    assert seen.tool == "echo"
    assert seen.headers["authorization"] == TOKEN
    assert seen.headers["x-team"] == "support"
    assert seen.headers["idempotency-key"] == "run1:classify:1"
    assert seen.headers["traceparent"] == TRACEPARENT
    methods = [method for method, _ in server.requests]
    assert methods[0] == "POST"  # the initialize handshake comes first, carrying the headers too
    assert all(h.get("idempotency-key") == "run1:classify:1" for _, h in server.requests)


def test_one_json_text_is_parsed(server: FakeMcpServer) -> None:
    assert _call(mcp_tool(server.url, "text"), {"a": [1, 2]}) == {"a": [1, 2]}


@pytest.mark.parametrize(
    ("tool", "says"),
    [("prose", "not JSON: Here are your results!"), ("picture", "answered image")],
)
def test_an_answer_that_is_not_json_is_invalid_output(
    server: FakeMcpServer, tool: str, says: str
) -> None:
    error = _fails(mcp_tool(server.url, tool), {})
    assert error.kind == "invalid-output"
    assert says in str(error)


def test_structured_content_against_the_servers_own_schema_is_invalid_output(
    server: FakeMcpServer,
) -> None:
    error = _fails(mcp_tool(server.url, "typed"), {})
    assert error.kind == "invalid-output"
    assert "structured content" in str(error)


def test_is_error_is_unavailable_with_the_tools_text(server: FakeMcpServer) -> None:
    error = _fails(mcp_tool(server.url, "fail"), {})
    assert (error.kind, error.retryable) == ("unavailable", True)
    assert "index offline" in str(error)


def test_a_secret_reaches_the_server_and_no_log_line(
    server: FakeMcpServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    tool = mcp_tool(server.url, "echo", headers=(("Authorization", SecretRef("kb-token")),))
    _call(tool, {"query": "x"})
    assert server.calls[0].headers["authorization"] == TOKEN
    captured = capfd.readouterr()
    assert caplog.records  # the SDK and httpx2 did log, at DEBUG
    for text in (caplog.text, captured.out, captured.err):
        assert TOKEN not in text


def test_a_secret_the_server_echoes_back_is_blotted_out(
    server: FakeMcpServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # At INFO: at DEBUG the SDK (mcp.client.streamable_http) logs every message it receives,
    # the echo included; keeping tool answers out of DEBUG logs is the log redactor's job.
    caplog.set_level(logging.INFO)
    tool = mcp_tool(server.url, "fail", headers=(("Authorization", SecretRef("kb-token")),))
    error = _fails(tool, {"leak": True})
    assert server.calls[0].headers["authorization"] == TOKEN  # it was sent, and echoed
    assert "***" in str(error)
    captured = capfd.readouterr()
    for text in (str(error), repr(error.args), caplog.text, captured.out, captured.err):
        assert TOKEN not in text


def test_a_protocol_error_is_unavailable_and_retryable(server: FakeMcpServer) -> None:
    error = _fails(mcp_tool(server.url, "no-such-tool"), {})
    assert (error.kind, error.retryable) == ("unavailable", True)
    assert "unknown tool no-such-tool" in str(error)


def test_the_server_sees_each_idempotency_key_so_it_can_deduplicate(
    server: FakeMcpServer,
) -> None:
    tool = mcp_tool(server.url, "count")
    assert _call(tool, {}, key="run1:search:1") == {"key": "run1:search:1", "calls": 1}
    assert _call(tool, {}, key="run1:search:1") == {"key": "run1:search:1", "calls": 2}
    assert _call(tool, {}, key="run1:search:2") == {"key": "run1:search:2", "calls": 1}
    assert server.by_key == {"run1:search:1": 2, "run1:search:2": 1}


def test_a_call_over_its_timeout_fails_as_timeout(server: FakeMcpServer) -> None:
    started = time.monotonic()
    error = _fails(mcp_tool(server.url, "slow"), {"seconds": 5}, timeout_ms=300)
    assert (error.kind, error.retryable) == ("timeout", True)
    assert "300 ms" in str(error)
    assert time.monotonic() - started < 3


def test_an_unreachable_server_is_unavailable_and_retryable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = _fails(mcp_tool(f"http://127.0.0.1:{port}/mcp", "echo"), {})
    assert (error.kind, error.retryable) == ("unavailable", True)
    assert "could not be reached" in str(error)


def test_a_host_outside_the_profile_is_refused_before_any_request(
    server: FakeMcpServer,
) -> None:
    profile = exec_profile("researcher", "kb-search", domains=("kb.internal.example.com",))
    error = _fails(mcp_tool(server.url, "echo"), {}, profile=profile)
    assert (error.kind, error.retryable) == ("refused", False)
    assert server.requests == []


def test_a_missing_secret_fails_before_any_request(server: FakeMcpServer) -> None:
    tool = mcp_tool(server.url, "echo", headers=(("Authorization", SecretRef("kb-token")),))
    error = _fails(tool, {}, secrets={})
    assert (error.kind, error.retryable) == ("secret", False)
    assert "kb-token" in str(error)
    assert server.requests == []


def test_arguments_must_be_an_object(server: FakeMcpServer) -> None:
    error = _fails(mcp_tool(server.url, "echo"), ["not", "an", "object"])
    assert error.kind == "invalid-input"
    assert server.requests == []
