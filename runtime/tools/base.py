"""What every tool caller shares: the call, its failure, and the protocol callers implement.

A `ToolCall` carries everything the call needs and nothing of the run's store: the tool's
`ToolSpec` (how to reach it), the step's `ExecProfile` (what it may do), the input, and the
headers every call sends (``Idempotency-Key``, W3C ``traceparent``). A caller answers with the
tool's JSON output, or raises `ToolError`, which says whether a retry could help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from agentflow.bundle.profile import ExecProfile
from agentflow.bundle.tool import ToolSpec

Json = Any

FailureKind = Literal[
    "refused",  # outside the profile: host, egress, residency; no socket was opened
    "timeout",  # over the profile's (or the step's) timeout
    "invalid-input",  # the input does not match the tool's inputSchema; nothing was called
    "invalid-output",  # the answer does not match the tool's outputSchema
    "circuit-open",  # the tool failed too often in a row; calls are refused for a while
    "unavailable",  # the tool could not be reached or answered an error
    "secret",  # a secret the call needs is not in the secret store
    "resources",  # over the memory or CPU cap (python tools)
]


class ToolError(Exception):
    """A tool call that gave no output. The message never holds a secret's value."""

    def __init__(self, kind: FailureKind, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.retryable = (
            retryable
            if retryable is not None
            else kind in ("timeout", "unavailable", "invalid-output", "circuit-open")
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    tool: ToolSpec
    profile: ExecProfile
    """The (agent, tool) profile the call runs under."""
    input: Json
    idempotency_key: str
    """``<run>:<step>:<attempt>`` (with ``:<n>`` for the n-th call inside one LLM step): the
    same on a redelivery, so the tool can deduplicate."""
    traceparent: str
    """W3C trace context of the step."""
    timeout_ms: int
    """The step's own timeout when it has one, else the profile's; never above the profile's."""


class ToolCaller(Protocol):
    async def call(self, call: ToolCall) -> Json:
        """The tool's output for ``call``; raises `ToolError`."""
        ...
