"""MCP tools: one ``tools/call`` on a Model Context Protocol server over streamable HTTP.

Input: a `ToolCall` whose `ToolSpec` has ``type: mcp`` (``mcp.server``, the server's streamable
HTTP URL, and ``mcp.tool``, the tool's name there). Output: the tool's JSON, or `ToolError`.

Guarantees:
- The server's host is checked against the call's ExecProfile (`HostPolicy`) before any socket
  opens; a refused call reaches nothing.
- Every HTTP request of the session (the ``initialize`` handshake, ``tools/call``, and the
  ``tools/list`` the SDK makes to check structured output) carries the ToolSpec's headers, with
  secret references resolved through `Secrets` at call time, plus ``Idempotency-Key`` and
  ``traceparent``.
- The whole session is held to ``call.timeout_ms``: past it the call fails as ``timeout``.
- Results map as: ``structuredContent`` when present; else a single text content parsed as JSON;
  anything else is ``invalid-output``. ``isError: true`` is ``unavailable`` with the tool's text;
  a protocol or transport failure is ``unavailable`` (retryable). Checking the JSON against the
  tool's ``outputSchema`` is the caller chain's business, not this module's.
- No error message holds a resolved secret value.

Uses the official SDK (`mcp` 2.x): `mcp.client.streamable_http.streamable_http_client` over an
`httpx2.AsyncClient` that carries the headers, and `mcp.client.session.ClientSession`
(``initialize()``, then ``call_tool()``). A session lives for one call: nothing is shared
between calls, so a redelivered call starts clean.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import anyio
import httpx2
import mcp_types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from agentflow.bundle.profile import ExecProfile
from agentflow.bundle.secrets import SecretRef
from agentflow.bundle.tool import McpTarget, ToolSpec
from agentflow.runtime.tools.base import Json, ToolCall, ToolError

_SHOWN = 500
"""How much of a server's own error text an error message quotes."""
_OURS = frozenset({"idempotency-key", "traceparent"})
"""Headers every call sets itself."""


class Secrets(Protocol):
    """Resolves a secret reference's name to its value (structurally `runtime.secrets.Secrets`);
    raises when the store has no such secret."""

    def resolve(self, name: str) -> str: ...


class HostPolicy(Protocol):
    """Decides, before any socket opens, whether ``url`` may be reached under ``profile``."""

    def check(self, url: str, profile: ExecProfile) -> None:
        """Returns when allowed; raises `ToolError` (kind ``refused``) when not."""
        ...


@dataclass(frozen=True, slots=True)
class McpCaller:
    """A `ToolCaller` for ``mcp`` tools."""

    secrets: Secrets
    hosts: HostPolicy

    async def call(self, call: ToolCall) -> Json:
        target = _target(call.tool)
        self.hosts.check(target.server, call.profile)
        if not isinstance(call.input, dict):
            raise ToolError(
                "invalid-input", f"tool {call.tool.name}: MCP arguments must be a JSON object"
            )
        headers = self._headers(call)
        secrets = tuple(v for name, v in headers.items() if _is_secret(call.tool, name))
        seconds = call.timeout_ms / 1000
        try:
            with anyio.fail_after(seconds):
                result = await _call_tool(target, call.input, headers, seconds)
        except TimeoutError:
            raise ToolError(
                "timeout", f"tool {call.tool.name}: no answer within {call.timeout_ms} ms"
            ) from None
        except Exception as error:  # the SDK raises its own, httpx2's and exception groups
            raise _failure(call.tool.name, error, secrets) from None
        return _output(call.tool.name, result, secrets)

    def _headers(self, call: ToolCall) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in call.tool.headers:
            if name.lower() in _OURS:
                continue  # the runtime's own, never the tool file's
            if isinstance(value, SecretRef):
                try:
                    headers[name] = self.secrets.resolve(value.name)
                except Exception:  # whatever the store raises, its text stays out of ours
                    raise ToolError(
                        "secret",
                        f"tool {call.tool.name}: secret {value.name!r} (header {name}) "
                        "is not in the secret store",
                        retryable=False,
                    ) from None
            else:
                headers[name] = value
        headers["Idempotency-Key"] = call.idempotency_key
        headers["traceparent"] = call.traceparent
        return headers


async def _call_tool(
    target: McpTarget, arguments: dict[str, Json], headers: Mapping[str, str], seconds: float
) -> mcp_types.CallToolResult:
    """The initialize handshake, then ``tools/call``, in one session that ends with the call."""
    async with (
        httpx2.AsyncClient(headers=dict(headers), timeout=httpx2.Timeout(seconds)) as client,
        streamable_http_client(target.server, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await session.call_tool(target.tool, arguments)


def _output(tool: str, result: mcp_types.CallToolResult, secrets: tuple[str, ...]) -> Json:
    texts = [block.text for block in result.content if isinstance(block, mcp_types.TextContent)]
    if result.is_error:
        text = " ".join(texts).strip() or "no text"
        raise ToolError("unavailable", f"tool {tool} answered an error: {_quote(text, secrets)}")
    if result.structured_content is not None:
        return result.structured_content
    if len(result.content) != 1 or len(texts) != 1:
        kinds = ", ".join(block.type for block in result.content) or "nothing"
        raise ToolError(
            "invalid-output",
            f"tool {tool} answered {kinds}: expected structured content or one JSON text",
        )
    try:
        return json.loads(texts[0])
    except ValueError:
        raise ToolError(
            "invalid-output",
            f"tool {tool} answered text that is not JSON: {_quote(texts[0], secrets)}",
        ) from None


def _failure(tool: str, error: Exception, secrets: tuple[str, ...]) -> ToolError:
    """What a failed session means: an answer that broke the contract, or no answer at all."""
    leaves = list(_leaves(error))
    if any(isinstance(leaf, httpx2.TimeoutException) for leaf in leaves):
        return ToolError("timeout", f"tool {tool}: the MCP server did not answer in time")
    for leaf in leaves:
        if isinstance(leaf, MCPError):
            text = _quote(leaf.message, secrets)
            return ToolError("unavailable", f"tool {tool}: MCP error {leaf.code}: {text}")
    for leaf in leaves:
        # `ClientSession.validate_tool_result` checks structured content against the schema
        # the server lists for the tool, and says so only in a RuntimeError's text.
        if isinstance(leaf, RuntimeError) and "structured content" in str(leaf):
            return ToolError("invalid-output", f"tool {tool}: {_quote(str(leaf), secrets)}")
    described = "; ".join(_quote(f"{type(leaf).__name__}: {leaf}", secrets) for leaf in leaves)
    return ToolError(
        "unavailable", f"tool {tool}: the MCP server could not be reached: {described}"
    )


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


def _target(tool: ToolSpec) -> McpTarget:
    if tool.type != "mcp" or tool.mcp is None:
        raise ToolError("invalid-input", f"tool {tool.name} is not an MCP tool", retryable=False)
    return tool.mcp


def _is_secret(tool: ToolSpec, header: str) -> bool:
    return any(name == header and isinstance(v, SecretRef) for name, v in tool.headers)


def _quote(text: str, secrets: tuple[str, ...]) -> str:
    """Foreign text, cut short, with any secret value this call sent blotted out."""
    for value in secrets:
        if value:
            text = text.replace(value, "***")
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
