"""The ``loopback`` marker lets a test reach the servers it starts on loopback, and nothing else."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import is_loopback_address
from tests.runtime.fakes.tool_server import CountingListener


@pytest.mark.loopback
def test_a_loopback_test_may_connect_to_loopback(listener: CountingListener) -> None:
    with socket.create_connection(("127.0.0.1", listener.port), timeout=2):
        pass
    assert listener.accepted() == 1


@pytest.mark.loopback
@pytest.mark.parametrize("address", ["192.0.2.1", "10.0.0.1", "2001:db8::1"])
def test_a_loopback_test_still_may_not_connect_elsewhere(address: str) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(RuntimeError, match="hermetic"):
            sock.connect((address, 80))
        with pytest.raises(RuntimeError, match="hermetic"):
            sock.connect_ex((address, 80))


def test_without_the_marker_not_even_loopback(listener: CountingListener) -> None:
    with socket.socket() as sock, pytest.raises(RuntimeError, match="hermetic"):
        sock.connect(("127.0.0.1", listener.port))
    assert listener.accepted() == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", False),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("0.0.0.0", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_address(host) is loopback
