"""Shared fixtures: a real `af` subprocess, and a hermetic (no-network) session."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_REPO = ROOT / "examples" / "repo"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class AfResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_af(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> AfResult:
    """Run the real `af` command, as a user would, in a subprocess."""
    command = [sys.executable, "-m", "agentflow.compiler", *map(str, args)]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return AfResult(completed.returncode, completed.stdout, completed.stderr)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/*/expected from the current code (refused when CI is set)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--update-golden") and os.environ.get("CI"):
        raise pytest.UsageError(
            "--update-golden is refused when CI is set: in CI a golden must be able to fail"
        )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites golden files instead of comparing with them."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests never reach the network. ``services`` tests opt out; ``loopback`` tests may
    connect to 127.0.0.0/8 and ::1 (servers they start themselves), and to nothing else."""
    if request.node.get_closest_marker("services"):
        yield
        return
    loopback = request.node.get_closest_marker("loopback") is not None
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def allowed(self: socket.socket, address: Any) -> bool:
        if not loopback or self.family not in (socket.AF_INET, socket.AF_INET6):
            return False
        return is_loopback_address(address[0])

    def guard(self: socket.socket, address: Any, *args: Any, **kwargs: Any) -> Any:
        if allowed(self, address):
            return connect(self, address, *args, **kwargs)
        raise RuntimeError(f"network access in a hermetic test: {address!r}")

    def guard_ex(self: socket.socket, address: Any, *args: Any, **kwargs: Any) -> Any:
        if allowed(self, address):
            return connect_ex(self, address, *args, **kwargs)
        raise RuntimeError(f"network access in a hermetic test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard_ex)
    yield


def is_loopback_address(host: Any) -> bool:
    """Whether ``host`` is a loopback IP literal (127.0.0.0/8, ::1, ::ffff:127.x); a name,
    even ``localhost``, is not: what a name resolves to is not this guard's to trust."""
    try:
        address = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


YAML_PARSERS = ("libyaml", "pure")
"""How `load.compose` can run: with libyaml's parser as its shortcut, or as on a PyYAML built
without libyaml."""


@pytest.fixture(params=YAML_PARSERS)
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once per PyYAML build: with libyaml (skipped where there is none) and without."""
    from agentflow.compiler.load import compose

    if request.param == "pure":
        monkeypatch.setattr(compose, "LIBYAML", None)
    elif compose.LIBYAML is None:
        pytest.skip("this PyYAML was built without libyaml")
    return str(request.param)
