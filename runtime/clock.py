"""Time, behind a protocol: the system clock for real runs, a virtual one for scenarios.

The engine never reads the time; the worker passes ``now`` into every decision. A scenario run
(`af test`) uses `VirtualClock`, which jumps to the next timer instead of waiting, so a retry
backoff of 30 s costs nothing and the recorded times are still consistent.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...

    async def sleep_until(self, at_ms: int) -> None: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep_until(self, at_ms: int) -> None:
        await asyncio.sleep(max(0.0, (at_ms - self.now_ms()) / 1000))


class VirtualClock:
    """Starts at ``start_ms`` and moves only when something sleeps until a later time."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    async def sleep_until(self, at_ms: int) -> None:
        self._now = max(self._now, at_ms)
        await asyncio.sleep(0)
