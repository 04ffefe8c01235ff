"""Grant semantics: what a role's permission covers (default deny)."""

from __future__ import annotations

import pytest

from agentflow.compiler.policy.grants import domain_granted, mcp_host, path_granted, ungranted


@pytest.mark.parametrize(
    ("need", "grant", "granted"),
    [
        ("docs.corp.example.com", "*.corp.example.com", True),
        ("a.b.corp.example.com", "*.corp.example.com", True),
        ("corp.example.com", "*.corp.example.com", False),
        ("evil.com/corp.example.com", "*.corp.example.com", False),
        ("evilcorp.example.com", "*.corp.example.com", False),
        ("kb.example.com", "kb.example.com", True),
        ("KB.Example.com", "kb.example.com", True),
        ("kb.example.com", "kb.example.org", False),
        ("*.kb.corp.example.com", "*.corp.example.com", True),
        ("*.corp.example.com", "*.corp.example.com", True),
        ("*.example.com", "*.corp.example.com", False),
        ("*.corp.example.com", "docs.corp.example.com", False),
    ],
)
def test_domain_wildcards_grant_subdomains_only(need: str, grant: str, granted: bool) -> None:
    assert domain_granted(need, grant) is granted


@pytest.mark.parametrize(
    ("need", "grant", "granted"),
    [
        ("/data/shared", "/data/shared", True),
        ("/data/shared/reports/q1.csv", "/data/shared", True),
        ("/data/sharedX", "/data/shared", False),
        ("/data", "/data/shared", False),
    ],
)
def test_paths_are_granted_by_ancestor_folders(need: str, grant: str, granted: bool) -> None:
    assert path_granted(need, grant) is granted


def test_ungranted_lists_exactly_what_is_missing() -> None:
    need = ["docs.corp.example.com", "corp.example.com", "x.other.org"]
    assert ungranted("network.http", need, ["*.corp.example.com"]) == (
        "corp.example.com",
        "x.other.org",
    )
    assert ungranted("network.http", need, None) == tuple(need)
    assert ungranted("fs.tmp", True, None) == ("fs.tmp",)
    assert ungranted("fs.tmp", True, True) == ()
    assert ungranted("fs.tmp", False, None) == ()
    assert ungranted("db.read", ["orders"], ["*"]) == ()
    assert ungranted("k8s.get", ["pods", "secrets"], ["pods"]) == ("secrets",)


@pytest.mark.parametrize(
    ("server", "host"),
    [
        ("https://mcp.example.com", "mcp.example.com"),
        ("https://mcp.example.com:8443/v1", "mcp.example.com"),
        ("mcp.example.com", "mcp.example.com"),
        ("https://", None),
    ],
)
def test_mcp_host_is_the_server_host(server: str, host: str | None) -> None:
    assert mcp_host(server) == host
