"""What model clients share: a chat request and answer, and the protocol clients implement.

The types follow the OpenAI Chat Completions API (which vLLM, Ollama and TGI also speak): a
request has messages, sampling settings from the agent's profile, an optional JSON Schema the
answer must match (``response_format``) and the tools offered as functions; an answer is one
message, which holds content or tool calls, and the token usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from agentflow.bundle.profile import ExecProfile

Json = Any


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionCall:
    """A tool call the model asks for: ``arguments`` is the JSON text it wrote."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None
    tool_calls: tuple[FunctionCall, ...] = ()
    tool_call_id: str | None = None
    """For a ``tool`` message: the call it answers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionSpec:
    """A tool offered to the model: its name, what it does, its input schema."""

    name: str
    description: str
    parameters: Json


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    messages: tuple[Message, ...]
    temperature: float
    max_tokens: int | None
    response_schema: Json | None
    """The JSON Schema the answer's content must match (``response_format``), if any."""
    functions: tuple[FunctionSpec, ...] = ()
    schema_name: str = "output"
    """What ``response_format.json_schema.name`` calls the schema (``[A-Za-z0-9_-]{1,64}``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatAnswer:
    message: Message
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class ModelError(Exception):
    """A model call that gave no answer; says whether a retry could help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ModelClient(Protocol):
    async def complete(
        self, profile: ExecProfile, request: ChatRequest, *, traceparent: str, idempotency_key: str
    ) -> ChatAnswer:
        """One chat completion for the agent of ``profile`` (its model, provider, key);
        raises `ModelError`."""
        ...
