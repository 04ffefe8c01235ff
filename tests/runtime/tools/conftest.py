"""Fixtures for tool-call tests: loopback tool servers and a listener that counts connections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runtime.fakes.tool_server import CountingListener, ToolServer


@pytest.fixture
def tool_server() -> Iterator[ToolServer]:
    with ToolServer("127.0.0.1") as server:
        yield server


@pytest.fixture
def other_server() -> Iterator[ToolServer]:
    """A second server: another origin (another port) on the same loopback address."""
    with ToolServer("127.0.0.1") as server:
        yield server


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    with CountingListener("127.0.0.1") as counting:
        yield counting
