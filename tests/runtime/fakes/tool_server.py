"""A real HTTP tool server on loopback, for tests of tool calls; and a listener that counts.

`ToolServer` serves on ``127.0.0.1`` (or another loopback address) on an ephemeral port, in a
thread, and records every request: `calls_by_key` counts them by ``Idempotency-Key`` (so a test
can prove at-least-once delivery with deduplication), `requests` keeps method, path, headers
and body. Routes (query parameters in brackets):

    /echo                      200 {"input": <body as JSON>, "headers": {...}, "method": ...}
    /json [value]              200 with ``value`` (JSON text) as the body
    /flaky [fail=N]            503 for the first N calls of each Idempotency-Key, then 200
    /status [code, body]       ``code`` with ``body`` (default a JSON error)
    /echo-error [code]         ``code`` (500) with the request's headers echoed in the body
    /redirect [to, code]       ``code`` (307) with ``Location: to``
    /loop                      307 to itself, forever
    /slow [ms]                 answers after ``ms`` milliseconds (cut short when the server stops)
    /text                      200 text/html, not JSON
    /huge [bytes, chunked]     200 with ``bytes`` bytes of JSON, by Content-Length or chunked

Every answer closes its connection. `stop` returns within a second, slow answers included.
`CountingListener` is a bare listening socket that never answers: `accepted` says how many
connections reached it, which is how a test proves that a refused call opened none.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes


class ToolServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.calls_by_key: Counter[str] = Counter()
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str = "/echo") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> ToolServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ToolServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, request: Recorded) -> int:
        """Keep ``request``; the number of calls so far with its Idempotency-Key."""
        with self.lock:
            self.requests.append(request)
            key = request.headers.get("idempotency-key", "")
            self.calls_by_key[key] += 1
            return self.calls_by_key[key]


def _handler(server: ToolServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            parts = urlsplit(self.path)
            query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
            calls = server.record(Recorded(self.command, parts.path, headers, body))
            route = getattr(self, "_route_" + parts.path.strip("/").replace("-", "_"), None)
            if route is None:
                self._send(404, {"error": f"no route {parts.path}"})
            else:
                route(query=query, body=body, headers=headers, calls=calls)

        def _send(
            self, code: int, value: Any = None, *, raw: bytes | None = None, kind: str = ""
        ) -> None:
            data = raw if raw is not None else json.dumps(value).encode()
            self.send_response(code)
            self.send_header("Content-Type", kind or "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def _redirect(self, code: int, location: str) -> None:
            self.send_response(code)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

        def _route_echo(self, *, body: bytes, headers: dict[str, str], **_: Any) -> None:
            value = json.loads(body) if body else None
            self._send(200, {"input": value, "headers": headers, "method": self.command})

        def _route_json(self, *, query: dict[str, str], **_: Any) -> None:
            self._send(200, raw=query.get("value", "null").encode())

        def _route_flaky(self, *, query: dict[str, str], calls: int, **_: Any) -> None:
            if calls <= int(query.get("fail", "1")):
                self._send(503, {"error": "try again", "call": calls})
            else:
                self._send(200, {"ok": True, "call": calls})

        def _route_status(self, *, query: dict[str, str], **_: Any) -> None:
            code = int(query.get("code", "500"))
            body = query.get("body")
            self._send(code, {"error": "as asked"}, raw=None if body is None else body.encode())

        def _route_echo_error(
            self, *, query: dict[str, str], headers: dict[str, str], **_: Any
        ) -> None:
            echoed = "; ".join(f"{name}: {value}" for name, value in headers.items())
            self._send(int(query.get("code", "500")), raw=echoed.encode(), kind="text/plain")

        def _route_redirect(self, *, query: dict[str, str], **_: Any) -> None:
            self._redirect(int(query.get("code", "307")), query["to"])

        def _route_loop(self, **_: Any) -> None:
            self._redirect(307, "/loop")

        def _route_slow(self, *, query: dict[str, str], **_: Any) -> None:
            deadline = time.monotonic() + int(query.get("ms", "2000")) / 1000
            while time.monotonic() < deadline and not server.stopping.is_set():
                time.sleep(0.01)
            try:
                self._send(200, {"slept": True})
            except OSError:
                pass  # the client gave up first

        def _route_text(self, **_: Any) -> None:
            self._send(200, raw=b"<html>not json</html>", kind="text/html")

        def _route_huge(self, *, query: dict[str, str], **_: Any) -> None:
            size = int(query.get("bytes", str(11 * 1024 * 1024)))
            chunk = b" " * 65536
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            chunked = query.get("chunked") == "1"
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            self.close_connection = True
            sent = 0
            try:
                while sent < size:
                    piece = chunk[: min(len(chunk), size - sent)]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                    sent += len(piece)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client stopped reading at its cap

    return Handler


class CountingListener:
    """A socket listening on loopback that accepts nothing until asked how many came."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))
        self._socket.listen(64)
        self._socket.setblocking(False)
        self.port = int(self._socket.getsockname()[1])
        self._count = 0

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def accepted(self) -> int:
        """Connections that reached the socket so far (each is accepted and closed here)."""
        while True:
            try:
                connection, _ = self._socket.accept()
            except BlockingIOError:
                return self._count
            connection.close()
            self._count += 1

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> CountingListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
