"""A real MCP server for tests: the SDK's low-level `Server` over streamable HTTP on loopback.

`serve_mcp()` starts it with uvicorn on 127.0.0.1 (an ephemeral port) in a thread and yields a
`FakeMcpServer`: its URL, every HTTP request that reached it (method and headers) and every
``tools/call`` (tool, arguments, headers). Its tools:

- ``echo``: structured content ``{"echo": arguments}``
- ``text``: one text content, the arguments as JSON
- ``prose``: one text content that is not JSON
- ``picture``: an image content
- ``fail``: ``isError: true`` with a text, and the ``Authorization`` header it got when the
  arguments say ``{"leak": true}`` (a careless server)
- ``count``: ``{"key": <Idempotency-Key>, "calls": n}``, n calls seen with that key so far
- ``slow``: sleeps ``arguments.seconds``, then answers like ``echo``
- ``typed``: lists an outputSchema (``{n: integer}``) and answers ``{"n": "seven"}``

Any other name is a JSON-RPC error (invalid params), as a server answers for an unknown tool.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
import uvicorn
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

_TOOLS = ("echo", "text", "prose", "picture", "fail", "count", "slow", "typed")
_TYPED_SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


@dataclass(frozen=True)
class ToolCallSeen:
    tool: str
    arguments: dict[str, Any]
    headers: dict[str, str]
    """Names lower-cased, as HTTP/1.1 servers see them."""


@dataclass
class FakeMcpServer:
    url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """Every HTTP request: (method, headers)."""
    calls: list[ToolCallSeen] = field(default_factory=list)
    by_key: Counter[str] = field(default_factory=Counter)
    """``tools/call`` requests by ``Idempotency-Key``."""

    def app(self) -> Any:
        server: Server[Any] = Server(
            "agentflow-fake", on_list_tools=self._list_tools, on_call_tool=self._call_tool
        )
        inner = server.streamable_http_app()

        async def recording(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                headers = {k.decode(): v.decode() for k, v in scope["headers"]}
                self.requests.append((scope["method"], headers))
            await inner(scope, receive, send)

        return recording

    async def _list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=name,
                    input_schema={"type": "object"},
                    output_schema=_TYPED_SCHEMA if name == "typed" else None,
                )
                for name in _TOOLS
            ]
        )

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> Any:
        headers = dict(ctx.request.headers) if ctx.request is not None else {}
        arguments = params.arguments or {}
        self.calls.append(ToolCallSeen(params.name, arguments, headers))
        key = headers.get("idempotency-key", "")
        self.by_key[key] += 1
        name = params.name
        if name == "echo":
            return _structured({"echo": arguments})
        if name == "text":
            return types.CallToolResult(content=[_text(json.dumps(arguments))])
        if name == "prose":
            return types.CallToolResult(content=[_text("Here are your results!")])
        if name == "picture":
            image = types.ImageContent(data="iVBORw0KGgo=", mime_type="image/png")
            return types.CallToolResult(content=[image])
        if name == "fail":
            said = f" (you sent {headers.get('authorization')})" if arguments.get("leak") else ""
            return types.CallToolResult(content=[_text(f"index offline{said}")], is_error=True)
        if name == "count":
            return _structured({"key": key, "calls": self.by_key[key]})
        if name == "slow":
            await anyio.sleep(float(arguments.get("seconds", 5)))
            return _structured({"echo": arguments})
        if name == "typed":
            return _structured({"n": "seven"})
        raise MCPError(types.INVALID_PARAMS, f"unknown tool {name}")


def _structured(value: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[_text(json.dumps(value))], structured_content=value)


def _text(text: str) -> types.TextContent:
    return types.TextContent(text=text)


@contextmanager
def serve_mcp() -> Iterator[FakeMcpServer]:
    fake = FakeMcpServer()
    with serve_asgi(fake.app()) as base:
        fake.url = f"{base}/mcp"
        yield fake


@contextmanager
def serve_asgi(app: Any, *, start_within: float = 10.0) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 (ephemeral port) in a thread; yields its base URL
    and stops it, within bounded time, on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_within
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
