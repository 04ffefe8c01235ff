"""Egress: may a step reach this host? Decided on the URL, before any socket opens.

Input: a URL and the step's `ExecProfile`. Output: an `EgressDecision` (pure `check_egress`),
or a refusal (`require_egress` raises ``ToolError("refused")``). `EgressTransport` wraps an httpx
transport so every request it sends, every redirect hop included, is checked first; build
clients with `egress_client`, which also turns off proxies from the environment (a proxy
mounted by httpx would route around the transport).

The rules (SPEC §1 permissions, §4 guarantee 4):
- the host must match an entry of ``profile.domains``: a host name equal to the entry, or, for
  ``*.example.com``, any subdomain of any depth (``a.b.example.com``), never ``example.com``
  itself nor ``evilexample.com``. Case and one trailing dot do not matter; ports never do (a
  host with any port is that host, and an entry written with a port matches nothing). IP
  literals (``127.0.0.1``, ``::1``) match only an entry naming the same address, never a
  wildcard; ``localhost`` and loopback addresses are allowed only when listed, like any other
  host.
- under residency ``strict``, when the environment sets an egress allow-list, the host must
  match it too (same rules). Under ``lenient`` the allow-list is checked the same way, but a
  host outside it is a *warning* on the decision (the caller logs it) and the request goes on.
  Under ``off`` only the domains apply.
- only ``http`` and ``https`` URLs are allowed.

Not covered: names are not resolved, so a listed name whose DNS answer is a private or
loopback address is reached without a second check (pin such hosts in DNS, or list IP literals);
a connection made by other means than these transports (a python tool's own sockets) is the
sandbox's business (`agentflow.runtime.tools.python`).
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from agentflow.bundle.profile import ExecProfile
from agentflow.runtime.tools.base import ToolError

Warn = Callable[[str], None]
"""Where a lenient-residency warning goes; the caller logs it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EgressDecision:
    host: str
    """The URL's host, normalized (lower case, no trailing dot, IPv6 without brackets)."""
    refusal: str | None
    """Why the request may not go out; None when it may."""
    warning: str | None
    """Under lenient residency: the allow-list the host is outside of; for the caller to log."""

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def normalize_host(host: str) -> str:
    """``KB.Example.com.`` → ``kb.example.com``; ``[::1]`` → ``::1``; ``bücher.de`` →
    ``xn--bcher-kva.de`` (the form a URL's host takes on the wire)."""
    host = host.strip().removeprefix("[").removesuffix("]").rstrip(".").lower()
    if not host.isascii():
        labels = host.split(".")
        try:
            host = ".".join(
                label if label.isascii() else label.encode("idna").decode("ascii")
                for label in labels
            )
        except UnicodeError:
            return ""
    return host


def host_matches(host: str, entry: str) -> bool:
    """Whether ``entry`` (``kb.example.com``, ``*.example.com``, ``127.0.0.1``) covers ``host``.

    Both sides are normalized first. A wildcard covers subdomains only, never an IP literal
    (nor a name ending in a number, which the resolver would read as one).
    """
    host, entry = normalize_host(host), normalize_host(entry)
    if not host or not entry:
        return False
    if entry.startswith("*."):
        suffix = entry[1:]
        return not _is_ip_like(host) and host.endswith(suffix) and len(host) > len(suffix)
    if _is_ip(host) and _is_ip(entry):
        return ipaddress.ip_address(host) == ipaddress.ip_address(entry)
    return host == entry


def host_allowed(host: str, entries: Iterable[str]) -> bool:
    return any(host_matches(host, entry) for entry in entries)


def check_egress(url: str | httpx.URL, profile: ExecProfile) -> EgressDecision:
    """May a step under ``profile`` send a request to ``url``? Pure: no DNS, no socket."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return EgressDecision(host="", refusal=f"{str(url)[:200]!r} is not a URL", warning=None)
    host = normalize_host(parsed.raw_host.decode("ascii", "replace"))
    if parsed.scheme not in ("http", "https"):
        return EgressDecision(
            host=host,
            refusal=f"scheme {parsed.scheme!r} is not allowed (only http and https)",
            warning=None,
        )
    if not host:
        return EgressDecision(host="", refusal="the URL names no host", warning=None)
    where = f"profile {profile.id!r}"
    if not host_allowed(host, profile.domains):
        listed = ", ".join(profile.domains) or "no hosts at all"
        refusal = (
            f"host {host!r} is not among the domains {where} may reach ({listed}); grant it "
            "through the tool's network.http permission and the agent's role"
        )
        return EgressDecision(host=host, refusal=refusal, warning=None)
    residency = profile.residency
    allow_list = residency.egress_allow_list
    if residency.mode == "off" or allow_list is None or host_allowed(host, allow_list):
        return EgressDecision(host=host, refusal=None, warning=None)
    outside = (
        f"host {host!r} is outside the egress allow-list of environment "
        f"{profile.environment!r} ({', '.join(allow_list) or 'empty'}), residency {residency.mode}"
    )
    if residency.mode == "strict":
        return EgressDecision(host=host, refusal=outside, warning=None)
    return EgressDecision(host=host, refusal=None, warning=outside + "; allowed because lenient")


def require_egress(url: str | httpx.URL, profile: ExecProfile) -> EgressDecision:
    """`check_egress`, raising ``ToolError("refused")`` (not retryable) when it says no."""
    decision = check_egress(url, profile)
    if decision.refusal is not None:
        raise ToolError("refused", f"refused before connecting: {decision.refusal}")
    return decision


class EgressTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks each request's URL against a profile before sending it.

    A refused request raises ``ToolError("refused")`` and opens no connection. Lenient warnings
    go to ``warn``, once per host for the transport's life.
    """

    def __init__(
        self,
        profile: ExecProfile,
        *,
        inner: httpx.AsyncBaseTransport | None = None,
        warn: Warn | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._profile = profile
        self._inner = (
            inner
            if inner is not None
            else httpx.AsyncHTTPTransport(verify=tls or tls_context(), trust_env=False)
        )
        self._warn = warn
        self._warned: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        decision = require_egress(request.url, self._profile)
        if decision.warning is not None and decision.host not in self._warned:
            self._warned.add(decision.host)
            if self._warn is not None:
                self._warn(decision.warning)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def tls_context() -> ssl.SSLContext:
    """The CA bundle httpx would use: ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set (a private
    CA for internal tools), else certifi's. Building one takes tens of milliseconds: build it
    once and pass it to `egress_client`."""
    return httpx.create_ssl_context()


def egress_client(
    profile: ExecProfile,
    *,
    timeout: httpx.Timeout,
    warn: Warn | None = None,
    tls: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` whose every request passes `check_egress` for ``profile``.

    Redirects are not followed (callers follow them one by one, each checked); proxies and
    ``.netrc`` from the environment are ignored, so nothing routes around the check.
    """
    return httpx.AsyncClient(
        transport=EgressTransport(profile, warn=warn, tls=tls),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_ip_like(host: str) -> bool:
    """An IP literal, or a name the C resolver reads as one (``127.1``, ``0x7f.0.0.1``): no
    top-level domain is numeric, so a wildcard never covers a host ending in a number."""
    last = host.rsplit(".", 1)[-1]
    return _is_ip(host) or last.isdigit() or last.startswith("0x")
