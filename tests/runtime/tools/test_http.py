"""HTTP tools against a real server on loopback: what is sent, what comes back, what fails how."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import quote

import pytest

from agentflow.bundle.secrets import SecretRef
from agentflow.runtime.secrets import EnvSecrets, Redactor
from agentflow.runtime.tools.base import ToolCall, ToolError
from agentflow.runtime.tools.http import HttpLimits, HttpToolCaller
from tests.runtime.fakes.tool_server import CountingListener, ToolServer
from tests.runtime.fakes.tools import TRACEPARENT, call, profile, tool

pytestmark = pytest.mark.loopback

TOKEN = "tok-9f8e7d6c5b4a"
LOOPBACK = profile(domains=("127.0.0.1",))


def caller(limits: HttpLimits | None = None) -> HttpToolCaller:
    secrets = EnvSecrets(environ={"AF_SECRET_KB_TOKEN": TOKEN}, secrets_dir=None)
    return HttpToolCaller(secrets, Redactor(), limits=limits or HttpLimits())


def send(the_call: ToolCall, via: HttpToolCaller | None = None) -> Any:
    return asyncio.run((via or caller()).call(the_call))


def failure(the_call: ToolCall, via: HttpToolCaller | None = None) -> ToolError:
    with pytest.raises(ToolError) as caught:
        send(the_call, via)
    return caught.value


def test_the_input_is_posted_as_json_with_the_call_headers(tool_server: ToolServer) -> None:
    spec = tool(
        endpoint=tool_server.url("/echo"),
        headers={"Authorization": SecretRef("kb-token"), "X-Team": "support"},
    )
    answer = send(call(spec, LOOPBACK, {"query": "refund"}, key="run-7:classify:2"))
    assert answer["method"] == "POST" and answer["input"] == {"query": "refund"}
    headers = answer["headers"]
    assert headers["authorization"] == TOKEN, "the secret reference is resolved at call time"
    assert headers["x-team"] == "support"
    assert headers["idempotency-key"] == "run-7:classify:2"
    assert headers["traceparent"] == TRACEPARENT
    assert headers["content-type"] == "application/json"
    assert tool_server.calls_by_key == {"run-7:classify:2": 1}


def test_a_missing_secret_names_the_secret_and_calls_nothing(tool_server: ToolServer) -> None:
    spec = tool(endpoint=tool_server.url("/echo"), headers={"Authorization": SecretRef("gone")})
    error = failure(call(spec, LOOPBACK))
    assert error.kind == "secret" and not error.retryable
    assert "'gone'" in str(error) and "AF_SECRET_GONE" in str(error)
    assert tool_server.requests == []


def test_a_secret_no_header_can_carry_is_refused_without_its_value(
    tool_server: ToolServer,
) -> None:
    secrets = EnvSecrets(environ={"AF_SECRET_KB_TOKEN": "abc\r\nX-Evil: 1"}, secrets_dir=None)
    spec = tool(endpoint=tool_server.url("/echo"), headers={"Authorization": SecretRef("kb-token")})
    error = failure(call(spec, LOOPBACK), HttpToolCaller(secrets, Redactor()))
    assert error.kind == "secret" and "abc" not in str(error)
    assert tool_server.requests == []


@pytest.mark.parametrize(
    ("code", "retryable"), [(503, True), (500, True), (429, True), (404, False), (400, False)]
)
def test_an_error_status_is_unavailable_retryable_only_for_5xx_and_429(
    tool_server: ToolServer, code: int, retryable: bool
) -> None:
    error = failure(call(tool(endpoint=tool_server.url(f"/status?code={code}")), LOOPBACK))
    assert error.kind == "unavailable" and error.retryable is retryable
    assert f"HTTP {code}" in str(error)


def test_a_refused_connection_is_unavailable_and_retryable(listener: CountingListener) -> None:
    port = listener.port
    listener.close()
    error = failure(call(tool(endpoint=f"http://127.0.0.1:{port}/"), LOOPBACK))
    assert error.kind == "unavailable" and error.retryable


def test_an_answer_that_is_not_json_is_invalid_output(tool_server: ToolServer) -> None:
    error = failure(call(tool(endpoint=tool_server.url("/text")), LOOPBACK))
    assert error.kind == "invalid-output"
    assert "text/html" in str(error) and "not json" in str(error)


def test_nan_is_not_json(tool_server: ToolServer) -> None:
    spec = tool(endpoint=tool_server.url("/json?value=" + quote('{"score": NaN}')))
    assert failure(call(spec, LOOPBACK)).kind == "invalid-output"


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_an_answer_over_the_cap_is_refused_unread(tool_server: ToolServer, chunked: str) -> None:
    """By its Content-Length, or while streaming when it sends none."""
    spec = tool(endpoint=tool_server.url(f"/huge?bytes={3 * 1024 * 1024}&chunked={chunked}"))
    error = failure(call(spec, LOOPBACK), caller(HttpLimits(max_response_bytes=1024 * 1024)))
    assert error.kind == "invalid-output" and not error.retryable
    assert "more than 1048576 bytes" in str(error)


def test_the_default_cap_is_ten_mebibytes(tool_server: ToolServer) -> None:
    spec = tool(endpoint=tool_server.url(f"/huge?bytes={10 * 1024 * 1024 + 1}&chunked=1"))
    assert "more than 10485760 bytes" in str(failure(call(spec, LOOPBACK)))


def test_a_slow_tool_times_out_at_the_call_timeout(tool_server: ToolServer) -> None:
    spec = tool(endpoint=tool_server.url("/slow?ms=5000"))
    started = time.monotonic()
    error = failure(call(spec, LOOPBACK, timeout_ms=300))
    elapsed = time.monotonic() - started
    assert error.kind == "timeout" and error.retryable and "300 ms" in str(error)
    assert elapsed < 2, f"took {elapsed:.2f}s"


def test_the_call_timeout_never_exceeds_the_profile(tool_server: ToolServer) -> None:
    spec = tool(endpoint=tool_server.url("/slow?ms=5000"))
    error = failure(call(spec, profile(domains=("127.0.0.1",), timeout_ms=200), timeout_ms=9000))
    assert error.kind == "timeout" and "200 ms" in str(error)


def test_a_redirect_to_an_allowed_host_is_followed_without_the_tool_headers(
    tool_server: ToolServer, other_server: ToolServer
) -> None:
    """307 repeats the POST; the new origin gets the call's headers but none of the tool's,
    so the secret stays with the host it was meant for."""
    target = quote(other_server.url("/echo"), safe="")
    spec = tool(
        endpoint=tool_server.url(f"/redirect?to={target}&code=307"),
        headers={"Authorization": SecretRef("kb-token")},
    )
    answer = send(call(spec, LOOPBACK, {"query": "q"}, key="k-1"))
    assert answer["method"] == "POST" and answer["input"] == {"query": "q"}
    assert "authorization" not in answer["headers"]
    assert answer["headers"]["idempotency-key"] == "k-1"
    assert tool_server.requests[0].headers["authorization"] == TOKEN


def test_a_same_origin_303_turns_into_a_get_and_keeps_the_headers(
    tool_server: ToolServer,
) -> None:
    spec = tool(
        endpoint=tool_server.url("/redirect?to=/echo&code=303"),
        headers={"Authorization": SecretRef("kb-token")},
    )
    answer = send(call(spec, LOOPBACK))
    assert answer["method"] == "GET" and answer["input"] is None
    assert answer["headers"]["authorization"] == TOKEN


def test_a_redirect_to_a_forbidden_host_is_refused_before_connecting(
    tool_server: ToolServer, listener: CountingListener
) -> None:
    """The redirect names localhost, which the profile does not list (127.0.0.1 it does)."""
    target = quote(f"http://localhost:{listener.port}/steal", safe="")
    error = failure(call(tool(endpoint=tool_server.url(f"/redirect?to={target}")), LOOPBACK))
    assert error.kind == "refused" and "'localhost'" in str(error)
    assert listener.accepted() == 0
    assert len(tool_server.requests) == 1


def test_redirects_are_bounded(tool_server: ToolServer) -> None:
    error = failure(call(tool(endpoint=tool_server.url("/loop")), LOOPBACK))
    assert error.kind == "unavailable" and not error.retryable
    assert "more than 5" in str(error)
    assert len(tool_server.requests) == 6, "the first request and five redirects"


def test_a_secret_echoed_in_an_error_body_never_reaches_the_error(
    tool_server: ToolServer,
) -> None:
    spec = tool(
        endpoint=tool_server.url("/echo-error?code=502"),
        headers={"Authorization": SecretRef("kb-token")},
    )
    error = failure(call(spec, LOOPBACK))
    assert error.kind == "unavailable"
    assert TOKEN not in str(error) and "authorization: ***" in str(error)


def test_a_secret_cut_by_the_snippet_is_masked_whole_first(tool_server: ToolServer) -> None:
    body = quote("x" * 190 + TOKEN + "y" * 100, safe="")
    spec = tool(
        endpoint=tool_server.url(f"/status?code=500&body={body}"),
        headers={"Authorization": SecretRef("kb-token")},
    )
    message = str(failure(call(spec, LOOPBACK)))
    assert TOKEN[:6] not in message


def test_a_json_escaped_secret_is_masked_too(tool_server: ToolServer) -> None:
    secret = 'p"ss\\word-31415'
    secrets = EnvSecrets(environ={"AF_SECRET_KB_TOKEN": secret}, secrets_dir=None)
    body = quote(json.dumps({"youSent": secret}), safe="")
    spec = tool(
        endpoint=tool_server.url(f"/status?code=401&body={body}"),
        headers={"X-Api-Key": SecretRef("kb-token")},
    )
    message = str(failure(call(spec, LOOPBACK), HttpToolCaller(secrets, Redactor())))
    assert "31415" not in message and "***" in message


def test_a_lenient_residency_violation_is_logged_and_the_call_goes(
    tool_server: ToolServer, caplog: pytest.LogCaptureFixture
) -> None:
    under = profile(domains=("127.0.0.1",), residency="lenient", egress=("*.eu.example.com",))
    with caplog.at_level(logging.WARNING):
        answer = send(call(tool(endpoint=tool_server.url("/echo")), under))
    assert answer["input"] == {"query": "refund"}
    assert any("allowed because lenient" in record.getMessage() for record in caplog.records)


def test_a_strict_residency_violation_is_refused_before_connecting(
    listener: CountingListener,
) -> None:
    under = profile(domains=("127.0.0.1",), residency="strict", egress=("*.eu.example.com",))
    error = failure(call(tool(endpoint=listener.url()), under))
    assert error.kind == "refused" and "egress allow-list" in str(error)
    assert listener.accepted() == 0
