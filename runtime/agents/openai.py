"""A `ModelClient` for OpenAI-compatible Chat Completions APIs (OpenAI, vLLM, Ollama, TGI).

Input: the agent's ExecProfile (its ``model``: provider, name, temperature, max tokens, the
provider's ``base_url`` in the environment compiled for and its API key by reference) and a
`ChatRequest`. Output: a `ChatAnswer` (one message with content and/or tool calls, token usage,
finish reason), or `ModelError`.

One call is one ``POST {base_url}/chat/completions`` with httpx, carrying ``Idempotency-Key``,
``traceparent`` and, when the profile names a key, ``Authorization: Bearer <key>`` resolved
through `Secrets` at call time. A schema asks for ``response_format: json_schema`` (strict);
functions are offered as ``tools``. The whole call is held to the profile's timeout.

Guarantees: a 429, a 5xx, a timeout or a connection failure is retryable; any other status
outside 2xx (redirects are not followed), an answer that is not a Chat Completions body, a
missing endpoint or a missing key is not. No
error message ever holds the API key: messages are built here, and any text quoted from the
provider has the key blotted out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import anyio
import httpx

from agentflow.bundle.profile import ExecProfile, ModelSettings
from agentflow.runtime.agents.base import (
    ChatAnswer,
    ChatRequest,
    FunctionCall,
    Message,
    ModelError,
)

_SHOWN = 300
"""How much of a provider's error body an error message quotes."""


class Secrets(Protocol):
    """Resolves a secret reference's name to its value (structurally `runtime.secrets.Secrets`);
    raises when the store has no such secret."""

    def resolve(self, name: str) -> str: ...


@dataclass(frozen=True, slots=True)
class OpenAIClient:
    """Chat completions over HTTP; one short-lived connection pool per call, nothing shared."""

    secrets: Secrets

    async def complete(
        self, profile: ExecProfile, request: ChatRequest, *, traceparent: str, idempotency_key: str
    ) -> ChatAnswer:
        model = _model(profile)
        if model.base_url is None:
            raise ModelError(
                f"the environment names no endpoint for provider {model.provider}",
                retryable=False,
            )
        key = self._key(model)
        headers = {"Idempotency-Key": idempotency_key, "traceparent": traceparent}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        where = f"provider {model.provider} at {_host(model.base_url)}"
        seconds = profile.timeout_ms / 1000
        try:
            with anyio.fail_after(seconds):
                async with httpx.AsyncClient(timeout=httpx.Timeout(seconds)) as client:
                    response = await client.post(
                        model.base_url.rstrip("/") + "/chat/completions",
                        json=request_body(model, request),
                        headers=headers,
                    )
        except (TimeoutError, httpx.TimeoutException):
            raise ModelError(f"{where}: no answer within {profile.timeout_ms} ms") from None
        except httpx.HTTPError as error:
            text = _quote(f"{type(error).__name__}: {error}", key)
            raise ModelError(f"{where} could not be reached: {text}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise ModelError(
                f"{where} answered HTTP {response.status_code}: {_body(response, key)}"
            )
        if not 200 <= response.status_code < 300:
            raise ModelError(
                f"{where} refused the request with HTTP {response.status_code}: "
                f"{_body(response, key)}",
                retryable=False,
            )
        try:
            return parse_answer(response.json())
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            raise ModelError(
                f"{where} answered a body that is not a chat completion: {_quote(str(error), key)}",
                retryable=False,
            ) from None

    def _key(self, model: ModelSettings) -> str | None:
        if model.api_key is None:
            return None
        try:
            return self.secrets.resolve(model.api_key.name)
        except Exception:  # whatever the store raises, its text stays out of ours
            raise ModelError(
                f"secret {model.api_key.name!r} (the API key of provider {model.provider}) "
                "is not in the secret store",
                retryable=False,
            ) from None


def request_body(model: ModelSettings, request: ChatRequest) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``request`` to ``model``."""
    body: dict[str, Any] = {
        "model": model.name,
        "messages": [_message_json(m) for m in request.messages],
        "temperature": request.temperature,
    }
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.response_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "schema": request.response_schema,
                "strict": strict_ready(request.response_schema),
            },
        }
    if request.functions:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": f.name,
                    "description": f.description,
                    "parameters": f.parameters,
                },
            }
            for f in request.functions
        ]
    return body


def strict_ready(schema: Any) -> bool:
    """Whether OpenAI's strict structured outputs accept ``schema``: every object closed
    (``additionalProperties: false``) with every property required. The answer is checked
    against the schema after the call either way; strict mode only makes the provider keep to it,
    and a provider refuses strict mode for any other schema (HTTP 400)."""
    if isinstance(schema, list):
        return all(strict_ready(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return False
        if not isinstance(properties, dict) or set(schema.get("required", ())) != set(properties):
            return False
    return all(strict_ready(value) for key, value in schema.items() if key != "required")


def parse_answer(data: Any) -> ChatAnswer:
    """The answer a Chat Completions body holds; raises ValueError, LookupError, TypeError or
    AttributeError for a body of another shape."""
    choice = data["choices"][0]
    message = choice["message"]
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise TypeError(f"message content is a {type(content).__name__}, not text")
    calls = tuple(
        FunctionCall(
            id=_text(call["id"], "tool call id"),
            name=_text(call["function"]["name"], "function name"),
            arguments=_text(call["function"].get("arguments") or "{}", "function arguments"),
        )
        for call in message.get("tool_calls") or ()
    )
    usage = data.get("usage") or {}
    return ChatAnswer(
        message=Message(role="assistant", content=content, tool_calls=calls),
        prompt_tokens=_count(usage.get("prompt_tokens", 0), "prompt_tokens"),
        completion_tokens=_count(usage.get("completion_tokens", 0), "completion_tokens"),
        finish_reason=str(choice.get("finish_reason") or "unknown"),
    )


def _message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def _model(profile: ExecProfile) -> ModelSettings:
    if profile.model is None:
        raise ModelError(f"profile {profile.id} names no model", retryable=False)
    return profile.model


def _host(url: str) -> str:
    """Where a URL points, without any credentials it may hold."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is a {type(value).__name__}, not text")
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"usage.{what} is {value!r}, not a token count")
    return value


def _body(response: httpx.Response, key: str | None) -> str:
    """The provider's own words about a failure: its error message when it sent JSON."""
    try:
        data = response.json()
        error = data.get("error") if isinstance(data, dict) else None
        text = error.get("message") if isinstance(error, dict) else error
        shown = text if isinstance(text, str) else json.dumps(data)
    except ValueError:
        shown = response.text
    return _quote(shown.strip() or "no body", key)


def _quote(text: str, key: str | None) -> str:
    """Foreign text, cut short, with the API key blotted out."""
    if key:
        text = text.replace(key, "***")
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
