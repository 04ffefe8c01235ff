"""Egress: which hosts a profile may reach, decided on the URL before any socket opens."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from agentflow.runtime.tools.base import ToolError
from agentflow.runtime.tools.egress import (
    EgressTransport,
    check_egress,
    egress_client,
    host_matches,
    require_egress,
)
from tests.runtime.fakes.tool_server import CountingListener
from tests.runtime.fakes.tools import profile


@pytest.mark.parametrize(
    ("host", "entry", "covered"),
    [
        ("kb.example.com", "kb.example.com", True),
        ("KB.Example.COM.", "kb.example.com", True),
        ("docs.example.com", "*.example.com", True),
        ("a.b.example.com", "*.example.com", True),
        ("example.com", "*.example.com", False),
        ("evilexample.com", "*.example.com", False),
        ("example.com.evil.net", "*.example.com", False),
        ("kb.example.com", "example.com", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "*.0.0.1", False),
        ("0x7f.0.0.1", "*.0.0.1", False),
        ("127.1", "127.0.0.1", False),
        ("::1", "::1", True),
        ("::1", "[::1]", True),
        ("localhost", "localhost", True),
        ("localhost", "*.localhost", False),
        ("xn--bcher-kva.example", "bücher.example", True),
        ("kb.example.com", "kb.example.com:443", False),
    ],
)
def test_an_entry_covers_a_host_by_the_documented_rules(
    host: str, entry: str, covered: bool
) -> None:
    assert host_matches(host, entry) is covered


def test_ports_are_not_part_of_a_permission() -> None:
    under = profile(domains=("kb.example.com", "127.0.0.1"))
    for url in ("https://kb.example.com/", "https://kb.example.com:8443/x", "http://127.0.0.1:9/"):
        assert check_egress(url, under).allowed, url


def test_loopback_and_ip_literals_are_reachable_only_when_listed() -> None:
    under = profile(domains=("kb.example.com", "*.example.com"))
    for url in (
        "http://localhost:80/",
        "http://127.0.0.1/",
        "http://[::1]:8080/",
        "http://10.0.0.8/",
    ):
        decision = check_egress(url, under)
        assert not decision.allowed, url
        assert "not among the domains" in (decision.refusal or "")
    assert check_egress("http://localhost/", profile(domains=("localhost",))).allowed


def test_only_http_and_https_urls_are_allowed() -> None:
    under = profile(domains=("kb.example.com",))
    decision = check_egress("ftp://kb.example.com/file", under)
    assert decision.refusal is not None and "scheme" in decision.refusal


def test_strict_residency_also_requires_the_egress_allow_list() -> None:
    under = profile(
        domains=("kb.eu.example.com", "kb.us.example.com"),
        residency="strict",
        egress=("*.eu.example.com",),
    )
    assert check_egress("https://kb.eu.example.com/", under).allowed
    refused = check_egress("https://kb.us.example.com/", under)
    assert refused.refusal is not None and "egress allow-list" in refused.refusal
    assert refused.warning is None


def test_without_an_allow_list_strict_residency_adds_nothing() -> None:
    under = profile(domains=("kb.us.example.com",), residency="strict", egress=None)
    assert check_egress("https://kb.us.example.com/", under).allowed


def test_lenient_residency_warns_instead_of_refusing() -> None:
    """Lenient checks the allow-list as strict does, but a host outside it is a warning on the
    decision, for the caller to log; the request may go."""
    under = profile(
        domains=("kb.us.example.com",), residency="lenient", egress=("*.eu.example.com",)
    )
    decision = check_egress("https://kb.us.example.com/", under)
    assert decision.allowed
    assert decision.warning is not None and "allowed because lenient" in decision.warning
    assert require_egress("https://kb.us.example.com/", under) == decision


def test_lenient_residency_never_widens_the_domains() -> None:
    under = profile(domains=("kb.eu.example.com",), residency="lenient", egress=("*.example.com",))
    assert not check_egress("https://other.example.com/", under).allowed


def test_residency_off_ignores_the_allow_list() -> None:
    under = profile(domains=("kb.us.example.com",), residency="off", egress=("*.eu.example.com",))
    decision = check_egress("https://kb.us.example.com/", under)
    assert decision.allowed and decision.warning is None


@pytest.mark.loopback
def test_a_refused_request_opens_no_connection(listener: CountingListener) -> None:
    """The listener is on 127.0.0.1 but the profile lists only localhost: refused, and the
    listening socket never sees a connection."""
    under = profile(domains=("localhost",))

    async def go() -> None:
        async with egress_client(under, timeout=httpx.Timeout(2)) as client:
            await client.post(listener.url(), json={})

    with pytest.raises(ToolError) as caught:
        asyncio.run(go())
    assert caught.value.kind == "refused" and not caught.value.retryable
    assert "127.0.0.1" in str(caught.value)
    assert listener.accepted() == 0


@pytest.mark.loopback
def test_the_check_is_not_a_no_op(listener: CountingListener) -> None:
    """The same request under a profile that lists the host does reach the listener (which
    never answers, so the client times out): the zero above is the check's doing."""
    under = profile(domains=("127.0.0.1",))

    async def go() -> None:
        async with egress_client(under, timeout=httpx.Timeout(0.3)) as client:
            await client.post(listener.url(), json={})

    with pytest.raises(httpx.TimeoutException):
        asyncio.run(go())
    assert listener.accepted() == 1


@pytest.mark.loopback
def test_proxies_from_the_environment_cannot_route_around_the_check(
    listener: CountingListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(variable, listener.url())
    under = profile(domains=("kb.example.com",))

    async def go() -> None:
        async with egress_client(under, timeout=httpx.Timeout(2)) as client:
            await client.post("http://evil.example.net/", json={})

    with pytest.raises(ToolError) as caught:
        asyncio.run(go())
    assert caught.value.kind == "refused"
    assert listener.accepted() == 0


def test_the_transport_reports_a_lenient_warning_once_per_host() -> None:
    under = profile(domains=("kb.us.example.com",), residency="lenient", egress=("eu.example",))
    warnings: list[str] = []
    answered = httpx.MockTransport(lambda request: httpx.Response(200, json={}))

    async def go() -> None:
        transport = EgressTransport(under, inner=answered, warn=warnings.append)
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get("https://kb.us.example.com/a")
            await client.get("https://kb.us.example.com/b")

    asyncio.run(go())
    assert len(warnings) == 1 and "kb.us.example.com" in warnings[0]
