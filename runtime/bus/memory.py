"""The embedded bus: an in-process queue with the bus's semantics (dedup by message id,
redelivery on nak), for one process that is both relay and workers."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from agentflow.runtime.bus.base import Delivery

DEDUP_WINDOW = 100_000
"""How many message ids are remembered to drop a duplicate publish (JetStream's window is
time-based; this one is by count)."""


class MemoryBus:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending = 0
        self._delayed = 0

    async def publish(self, subject: str, payload: Any, msg_id: str) -> None:
        if msg_id in self._seen:
            return
        self._seen[msg_id] = None
        if len(self._seen) > DEDUP_WINDOW:
            self._seen.popitem(last=False)
        self._queue.put_nowait(Delivery(subject, payload, msg_id))

    async def next(self, timeout_s: float) -> Delivery | None:
        try:
            delivery = (
                await asyncio.wait_for(self._queue.get(), timeout_s)
                if timeout_s > 0
                else self._queue.get_nowait()
            )
        except (TimeoutError, asyncio.QueueEmpty):
            return None
        self._pending += 1
        return delivery

    async def ack(self, delivery: Delivery) -> None:
        self._pending -= 1

    async def nak(self, delivery: Delivery, delay_ms: int) -> None:
        self._pending -= 1
        again = Delivery(delivery.subject, delivery.payload, delivery.msg_id, delivery.attempt + 1)
        if delay_ms <= 0:
            self._queue.put_nowait(again)
            return
        self._delayed += 1

        async def later() -> None:
            await asyncio.sleep(delay_ms / 1000)
            self._delayed -= 1
            self._queue.put_nowait(again)

        asyncio.get_running_loop().create_task(later())

    def idle(self) -> bool:
        return self._queue.empty() and self._pending == 0 and self._delayed == 0
