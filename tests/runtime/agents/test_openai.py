"""The OpenAI-compatible model client against a fake provider over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from agentflow.bundle.profile import ExecProfile
from agentflow.runtime.agents.base import (
    ChatAnswer,
    ChatRequest,
    FunctionCall,
    FunctionSpec,
    Message,
    ModelError,
)
from agentflow.runtime.agents.openai import OpenAIClient
from tests.runtime.fakes.bundle_parts import DictSecrets, exec_profile, model_settings
from tests.runtime.fakes.openai_server import Reply, serve_openai

pytestmark = pytest.mark.loopback

API_KEY = "sk-planted-9d2b7e61c4a0"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
SCHEMA = {"type": "object", "properties": {"intent": {"type": "string"}}, "required": ["intent"]}
REQUEST = ChatRequest(
    messages=(
        Message(role="system", content="Classify the ticket."),
        Message(role="user", content="How do I reset my password?"),
    ),
    temperature=0.1,
    max_tokens=128,
    response_schema=SCHEMA,
    functions=(
        FunctionSpec(
            name="kb-search",
            description="Search the knowledge base",
            parameters={"type": "object", "properties": {"query": {"type": "string"}}},
        ),
    ),
    schema_name="classify",
)


def _profile(base_url: str | None, *, api_key: str | None = "openai-key") -> ExecProfile:
    model = model_settings(base_url, api_key=api_key)
    return exec_profile("classifier", model=model, timeout_ms=2_000)


def _complete(
    profile: ExecProfile, request: ChatRequest = REQUEST, secrets: dict[str, str] | None = None
) -> ChatAnswer:
    client = OpenAIClient(
        secrets=DictSecrets({"openai-key": API_KEY} if secrets is None else secrets)
    )
    return asyncio.run(
        client.complete(
            profile, request, traceparent=TRACEPARENT, idempotency_key="run1:classify:1:model:1"
        )
    )


def _fails(profile: ExecProfile, *, secrets: dict[str, str] | None = None) -> ModelError:
    with pytest.raises(ModelError) as raised:
        _complete(profile, secrets=secrets)
    return raised.value


def test_the_request_says_model_schema_tools_and_headers() -> None:
    with serve_openai(Reply(content='{"intent": "question"}', prompt_tokens=40)) as fake:
        answer = _complete(_profile(fake.base_url))
    (seen,) = fake.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["idempotency-key"] == "run1:classify:1:model:1"
    assert seen.headers["traceparent"] == TRACEPARENT
    assert seen.body["model"] == "gpt-4o-mini"
    assert seen.body["temperature"] == 0.1
    assert seen.body["max_tokens"] == 128
    assert seen.body["messages"] == [
        {"role": "system", "content": "Classify the ticket."},
        {"role": "user", "content": "How do I reset my password?"},
    ]
    assert seen.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "classify", "schema": SCHEMA, "strict": False},
    }
    assert seen.body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "kb-search",
                "description": "Search the knowledge base",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            },
        }
    ]
    assert answer.message.content == '{"intent": "question"}'
    assert (answer.prompt_tokens, answer.completion_tokens) == (40, 7)
    assert answer.finish_reason == "stop"


def test_tool_calls_are_read_and_sent_back_as_the_api_wants() -> None:
    with serve_openai(Reply(tool_calls=(("call_1", "kb-search", {"query": "reset"}),))) as fake:
        answer = _complete(_profile(fake.base_url))
        assert answer.message.tool_calls == (
            FunctionCall(id="call_1", name="kb-search", arguments='{"query": "reset"}'),
        )
        assert answer.finish_reason == "tool_calls"
        follow_up = ChatRequest(
            messages=(
                *REQUEST.messages,
                answer.message,
                Message(role="tool", content='{"items": []}', tool_call_id="call_1"),
            ),
            temperature=0.1,
            max_tokens=None,
            response_schema=None,
        )
        _complete(_profile(fake.base_url), follow_up)
    sent = fake.requests[1].body
    assert sent["messages"][2]["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "kb-search", "arguments": '{"query": "reset"}'},
        }
    ]
    assert sent["messages"][3] == {
        "role": "tool",
        "content": '{"items": []}',
        "tool_call_id": "call_1",
    }
    assert "response_format" not in sent and "tools" not in sent and "max_tokens" not in sent


def test_no_api_key_sends_no_authorization() -> None:
    with serve_openai(Reply(content="{}")) as fake:
        _complete(_profile(fake.base_url, api_key=None))
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (400, False), (404, False)]
)
def test_http_failures_say_whether_a_retry_could_help(status: int, retryable: bool) -> None:
    with serve_openai(Reply(status=status)) as fake:
        error = _fails(_profile(fake.base_url))
    assert error.retryable is retryable
    assert f"HTTP {status}" in str(error) and "scripted failure" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        "this is not json",
        '{"choices": []}',
        '{"choices": [{"message": {"content": 7}}]}',
        "[1, 2]",
        '{"choices": [{"message": {"content": "{}"}}], "usage": {"prompt_tokens": "many"}}',
    ],
)
def test_a_malformed_answer_is_not_retryable_and_says_so(body: str) -> None:
    with serve_openai(Reply(body=body)) as fake:
        error = _fails(_profile(fake.base_url))
    assert error.retryable is False
    assert "not a chat completion" in str(error)


def test_no_endpoint_for_the_provider_fails_without_a_request() -> None:
    error = _fails(_profile(None))
    assert str(error) == "the environment names no endpoint for provider openai"
    assert error.retryable is False


def test_a_missing_api_key_secret_is_not_retryable() -> None:
    with serve_openai() as fake:
        error = _fails(_profile(fake.base_url), secrets={})
    assert error.retryable is False
    assert "'openai-key'" in str(error)
    assert fake.requests == []


def test_an_unreachable_provider_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = _fails(_profile(f"http://127.0.0.1:{port}/v1"))
    assert error.retryable is True
    assert "could not be reached" in str(error)


def test_a_slow_provider_times_out_retryably() -> None:
    with serve_openai(Reply(content="{}", delay=3)) as fake:
        profile = exec_profile("classifier", model=model_settings(fake.base_url), timeout_ms=300)
        error = _fails(profile)
    assert error.retryable is True
    assert "no answer within 300 ms" in str(error)


def test_the_api_key_never_appears_in_errors_or_logs(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[ModelError] = []
    replies = [
        Reply(status=500, echo_authorization=True),
        Reply(status=401, echo_authorization=True),
        Reply(body=f"garbage {API_KEY}"),
        Reply(content="{}"),
    ]
    for reply in replies:
        with serve_openai(reply) as fake:
            try:
                _complete(_profile(fake.base_url))
            except ModelError as error:
                errors.append(error)
        assert fake.requests[0].headers["authorization"] == f"Bearer {API_KEY}"  # it was sent
    assert len(errors) == 3
    assert all("***" in str(error) for error in errors[:2])
    captured = capfd.readouterr()
    everything = [*map(str, errors), *map(repr, errors), caplog.text, captured.out, captured.err]
    assert caplog.records  # httpx did log the requests
    assert not [text for text in everything if API_KEY in text]


def test_strict_mode_is_asked_only_for_schemas_it_accepts() -> None:
    from agentflow.runtime.agents.openai import strict_ready

    closed = {
        "type": "object",
        "properties": {
            "intent": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["intent", "tags"],
        "additionalProperties": False,
    }
    assert strict_ready(closed)
    assert not strict_ready(SCHEMA)  # open, so strict mode would be refused with HTTP 400
    assert not strict_ready({**closed, "required": ["intent"]})
    nested = {
        **closed,
        "properties": {**closed["properties"], "who": {"type": "object", "properties": {}}},
    }
    assert not strict_ready({**nested, "required": ["intent", "tags", "who"]})
