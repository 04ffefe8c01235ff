"""A fake OpenAI-compatible Chat Completions server: real HTTP on loopback, scripted answers.

`serve_openai(*replies)` starts a `ThreadingHTTPServer` on 127.0.0.1 (an ephemeral port) and
yields a `FakeOpenAI`: ``base_url`` (``http://127.0.0.1:<port>/v1``), and every request it got
(path, headers, JSON body). ``POST /v1/chat/completions`` answers the scripted `Reply` in order
(the last one repeats): content, tool calls, an HTTP error (500, 429, 400 …) or a raw body.
Like a real provider it refuses (HTTP 400) a request of the wrong shape: no model or messages,
a ``response_format`` that is not a ``json_schema`` with a schema (or asks for strict mode with
a schema strict mode refuses: an open object, an optional property), or ``tools`` that are not
functions with a name and parameters.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Reply:
    content: str | None = None
    tool_calls: tuple[tuple[str, str, Any], ...] = ()
    """(id, function name, arguments: a JSON value, or a str sent as it is)."""
    status: int = 200
    body: str | None = None
    """Sent instead of a chat completion (malformed answers)."""
    echo_authorization: bool = False
    """An error body that repeats the request's Authorization header (a careless provider)."""
    delay: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    finish_reason: str | None = None


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    """Names lower-cased."""
    body: Any


@dataclass
class FakeOpenAI:
    replies: tuple[Reply, ...]
    base_url: str = ""
    requests: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, str, float]:
        """(status, body, delay) for one request; records it."""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(Seen(path, headers, body))
            reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if path != "/v1/chat/completions":
            return 404, json.dumps({"error": {"message": f"no route {path}"}}), 0.0
        problem = _shape_problem(body)
        if problem is not None:
            return 400, json.dumps({"error": {"message": problem}}), 0.0
        if reply.body is not None:
            return reply.status, reply.body, reply.delay
        if reply.status != 200:
            said = "scripted failure"
            if reply.echo_authorization:
                said += f" for {headers.get('authorization')}"
            return reply.status, json.dumps({"error": {"message": said}}), reply.delay
        return 200, json.dumps(_completion(reply, body)), reply.delay


def _completion(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": id,
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for id, name, args in reply.tool_calls
        ]
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": request["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def _closed(schema: Any) -> bool:
    """What OpenAI's strict mode demands: additionalProperties false, every property required."""
    if isinstance(schema, list):
        return all(_closed(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False or set(
            schema.get("required", ())
        ) != set(properties):
            return False
    return all(_closed(v) for k, v in schema.items() if k != "required")


def _shape_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
        return "model and messages are required"
    form = body.get("response_format")
    if form is not None:
        schema = form.get("json_schema") if isinstance(form, dict) else None
        if (
            not isinstance(form, dict)
            or form.get("type") != "json_schema"
            or not isinstance(schema, dict)
            or not _NAME.fullmatch(str(schema.get("name")))
            or not isinstance(schema.get("schema"), dict)
            or not isinstance(schema.get("strict"), bool)
        ):
            return f"response_format is not a json_schema: {form!r}"
        if schema["strict"] and not _closed(schema["schema"]):
            return "Invalid schema for response_format: strict mode needs every object closed"
    for tool in body.get("tools", []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(tool, dict)
            or tool.get("type") != "function"
            or not isinstance(function, dict)
            or not _NAME.fullmatch(str(function.get("name")))
            or not isinstance(function.get("parameters"), dict)
        ):
            return f"tools[] is not a function: {tool!r}"
    return None


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, delay = fake.answer(self.path, headers, raw)
            time.sleep(delay)
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: a test reads `requests` instead

    return Handler


@contextmanager
def serve_openai(*replies: Reply) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(replies=replies or (Reply(content="{}"),))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
