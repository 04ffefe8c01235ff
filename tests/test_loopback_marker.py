"""The hermetic guard: ``loopback`` tests reach only 127.0.0.0/8 and ::1; other tests nothing."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.loopback
def test_a_loopback_test_reaches_a_loopback_server(listener: int) -> None:
    with socket.socket() as client:
        client.connect(("127.0.0.1", listener))


@pytest.mark.loopback
@pytest.mark.parametrize("address", [("10.255.255.1", 9), ("192.0.2.1", 80), ("example.com", 80)])
def test_a_loopback_test_reaches_nothing_else(address: tuple[str, int]) -> None:
    with socket.socket() as client, pytest.raises(RuntimeError, match="hermetic"):
        client.connect(address)


def test_an_unmarked_test_reaches_not_even_loopback(listener: int) -> None:
    with socket.socket() as client, pytest.raises(RuntimeError, match="hermetic"):
        client.connect(("127.0.0.1", listener))
