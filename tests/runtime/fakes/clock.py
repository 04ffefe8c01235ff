"""A clock a test moves by hand (milliseconds), for breakers, timers and leases."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now_ms: int = 10_000) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms
