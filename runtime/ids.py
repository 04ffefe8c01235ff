"""Identifiers: ULIDs for runs and messages, W3C trace context for calls.

A ULID is 48 bits of milliseconds and 80 random bits in Crockford base32: sortable by creation
time, unique without coordination.
"""

from __future__ import annotations

import os

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(now_ms: int, entropy: bytes | None = None) -> str:
    """A 26-character ULID for the time ``now_ms`` (random bits from the OS unless given)."""
    random = entropy if entropy is not None else os.urandom(10)
    value = (now_ms & (2**48 - 1)) << 80 | int.from_bytes(random[:10], "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def trace_id() -> str:
    """32 hex characters, never all zero (W3C trace-id)."""
    return os.urandom(16).hex()


def span_id() -> str:
    return os.urandom(8).hex()


def traceparent(trace: str, span: str) -> str:
    """The W3C ``traceparent`` header: version 00, sampled."""
    return f"00-{trace}-{span}-01"
