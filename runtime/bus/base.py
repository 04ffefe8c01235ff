"""The bus protocol and the message a worker receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Delivery:
    subject: str
    payload: Any
    msg_id: str
    attempt: int = 1
    """How many times this message has been delivered, this one included."""


class Bus(Protocol):
    async def publish(self, subject: str, payload: Any, msg_id: str) -> None: ...

    async def next(self, timeout_s: float) -> Delivery | None:
        """The next message for this worker, or None when none came within ``timeout_s``."""
        ...

    async def ack(self, delivery: Delivery) -> None: ...

    async def nak(self, delivery: Delivery, delay_ms: int) -> None:
        """Hand the message back, to be delivered again after ``delay_ms``."""
        ...

    def idle(self) -> bool:
        """Whether nothing is queued or being handled (embedded runs stop when all is quiet)."""
        ...
