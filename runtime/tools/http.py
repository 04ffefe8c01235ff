"""HTTP tools: ``POST endpoint`` with the step input as JSON, the answer read back as JSON.

Input: a `ToolCall` of an ``http`` tool. Output: the JSON value the tool answered, or a
`ToolError` whose message has every secret value masked (`Redactor`).

What a call sends: the step input as the JSON body; the tool's headers, each secret reference
resolved at call time through the `Secrets` provider; ``Idempotency-Key: <call.idempotency_key>``
and ``traceparent``. What it guarantees:
- every request, the first and each redirect hop, passes `egress.check_egress` before its
  connection opens (``refused``, not retryable). Redirects are followed one at a time, at most
  `MAX_REDIRECTS`; 307/308 repeat the POST, 301/302/303 turn into a GET without a body. A hop
  to another origin (scheme, host, port) carries none of the tool's own headers, so a secret
  never follows a redirect to a host it was not meant for; a hop from https to http is refused.
- the call's timeout (``call.timeout_ms``, never above the profile's) bounds connecting, each
  read, and the whole exchange (``timeout``, retryable).
- an answer outside 2xx is ``unavailable``: retryable for 5xx and 429, not for other statuses;
  a connection that fails is ``unavailable`` and retryable. A 2xx answer that is not JSON is
  ``invalid-output``; one over `MAX_RESPONSE_BYTES` (after decompression) is ``invalid-output``,
  not retryable, and is not read further.
Each call opens its own connections (nothing is pooled between calls or profiles); the TLS
context (CA bundle: `egress.tls_context`) is built once per caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass

import httpx

from agentflow.bundle.secrets import SecretRef
from agentflow.runtime.secrets import RedactingSecrets, Redactor, SecretError, Secrets
from agentflow.runtime.tools.base import Json, ToolCall, ToolError
from agentflow.runtime.tools.egress import egress_client, tls_context

MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_SNIPPET = 200
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
"""What a header value may hold: printable ASCII and tabs (no CR, LF, NUL, nor anything httpx
would fail to encode, quoting part of the value in its error)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpLimits:
    max_response_bytes: int = MAX_RESPONSE_BYTES
    max_redirects: int = MAX_REDIRECTS


def redacted(error: ToolError, redactor: Redactor) -> ToolError:
    """``error`` with every remembered secret value masked in its message."""
    return ToolError(error.kind, redactor.redact(str(error)), retryable=error.retryable)


class HttpToolCaller:
    """Calls ``http`` tools (`ToolCaller`); every value it resolves is told to ``redactor``."""

    def __init__(
        self,
        secrets: Secrets,
        redactor: Redactor,
        *,
        limits: HttpLimits = HttpLimits(),
        logger: logging.Logger | None = None,
    ) -> None:
        self._secrets = RedactingSecrets(secrets, redactor)
        self._redactor = redactor
        self._limits = limits
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._tls = tls_context()

    async def call(self, call: ToolCall) -> Json:
        try:
            return await self._call(call)
        except ToolError as error:
            raise redacted(error, self._redactor) from None

    async def _call(self, call: ToolCall) -> Json:
        name = call.tool.name
        if call.tool.endpoint is None:
            raise ToolError("unavailable", f"http tool {name!r} has no endpoint", retryable=False)
        own_headers = self._own_headers(call)
        try:
            body = json.dumps(call.input, allow_nan=False, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as error:
            message = f"the step input has no JSON form: {error}"
            raise ToolError("invalid-input", message, retryable=False) from None
        timeout_ms = min(call.timeout_ms, call.profile.timeout_ms)
        seconds = timeout_ms / 1000

        def warn(message: str) -> None:
            self._log.warning("tool %r: %s", name, self._redactor.redact(message))

        try:
            async with asyncio.timeout(seconds):
                client = egress_client(
                    call.profile, timeout=httpx.Timeout(seconds), warn=warn, tls=self._tls
                )
                async with client:
                    return await self._exchange(client, call, own_headers, body)
        except (TimeoutError, httpx.TimeoutException):
            raise ToolError(
                "timeout", f"tool {name!r} gave no answer within {timeout_ms} ms"
            ) from None
        except httpx.HTTPError as error:
            message = f"tool {name!r} could not be reached: {type(error).__name__}: {error}"
            raise ToolError("unavailable", message) from None
        except httpx.InvalidURL as error:
            raise ToolError(
                "unavailable", f"tool {name!r}: bad URL: {error}", retryable=False
            ) from None

    def _own_headers(self, call: ToolCall) -> tuple[tuple[str, str], ...]:
        """The tool's headers with each secret reference resolved; values checked."""
        out = []
        for header, text in call.tool.headers:
            if isinstance(text, SecretRef):
                try:
                    value = self._secrets.resolve(text.name)
                except SecretError as error:
                    raise ToolError(
                        "secret",
                        f"header {header!r} of tool {call.tool.name!r}: {error}",
                        retryable=False,
                    ) from None
                source = f"secret {text.name!r}"
            else:
                value, source = text, "its value"
            if not _HEADER_VALUE.fullmatch(value):
                raise ToolError(
                    "secret" if isinstance(text, SecretRef) else "unavailable",
                    f"header {header!r} of tool {call.tool.name!r}: {source} holds a character "
                    "no HTTP header can carry (a newline, a control character, non-ASCII)",
                    retryable=False,
                )
            out.append((header, value))
        return tuple(out)

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        call: ToolCall,
        own_headers: tuple[tuple[str, str], ...],
        body: bytes,
    ) -> Json:
        assert call.tool.endpoint is not None
        url = httpx.URL(call.tool.endpoint)
        origin = _origin(url)
        method, content = "POST", body
        for _hop in range(self._limits.max_redirects + 1):
            headers = httpx.Headers(own_headers if _origin(url) == origin else ())
            headers["Accept"] = "application/json"
            if content:
                headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = call.idempotency_key
            headers["traceparent"] = call.traceparent
            headers["User-Agent"] = "agentflow-runtime"
            request = client.build_request(method, url, headers=headers, content=content or None)
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    target = url.join(location)
                    if url.scheme == "https" and target.scheme == "http":
                        raise ToolError(
                            "refused",
                            f"tool {call.tool.name!r} redirected from https to http "
                            f"({target.host}); refused",
                        )
                    if response.status_code in (301, 302, 303):
                        method, content = "GET", b""
                    url = target
                    continue
                data = await self._read(response, call)
            finally:
                await response.aclose()
            return self._answer(call, response, data)
        raise ToolError(
            "unavailable",
            f"tool {call.tool.name!r} redirected more than {self._limits.max_redirects} times",
            retryable=False,
        )

    async def _read(self, response: httpx.Response, call: ToolCall) -> bytes:
        cap = self._limits.max_response_bytes
        declared = response.headers.get("content-length", "")
        too_big = ToolError(
            "invalid-output",
            f"tool {call.tool.name!r} answered more than {cap} bytes; not read further",
            retryable=False,
        )
        if declared.isdigit() and int(declared) > cap:
            raise too_big
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, call: ToolCall, response: httpx.Response, data: bytes) -> Json:
        name, status = call.tool.name, response.status_code
        if not 200 <= status < 300:
            raise ToolError(
                "unavailable",
                f"tool {name!r} answered HTTP {status} {response.reason_phrase} from "
                f"{response.url.host}: {self._snippet(data)}",
                retryable=status >= 500 or status == 429,
            )
        try:
            return json.loads(data, parse_constant=_no_constant)
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise ToolError(
                "invalid-output",
                f"tool {name!r} answered HTTP {status} with a body that is not JSON ({kind}): "
                f"{self._snippet(data)}",
            ) from None

    def _snippet(self, data: bytes) -> str:
        """The start of a body for a message: masked whole first, so no cut leaves half a secret."""
        text = " ".join(self._redactor.redact(data.decode("utf-8", "replace")).split())
        if not text:
            return "(empty body)"
        return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "…"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
