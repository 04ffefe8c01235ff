"""Circuit breakers: after too many failures in a row, stop calling a tool for a while.

Input: a breaker's state, the profile's `CircuitBreaker` settings (``failure_threshold``,
``reset_after_ms``) and the time now, from an injected clock. Output: whether a call may go
(`admit`) and the next state (`admit`, `record`). Pure functions over a frozen `BreakerState`;
`Breakers` keeps one state per profile id for one process (breakers are not shared between
workers).

The states: *closed* (calls go; failures in a row are counted), *open* (``failure_threshold``
failures in a row: calls are refused with ``ToolError("circuit-open")`` until
``reset_after_ms`` have passed), *half-open* (after that, exactly one trial call goes; its
success closes the circuit, its failure opens it again for another ``reset_after_ms``). A call
that ends neither way (refused before the tool was reached, bad input, cancelled) leaves the
count alone and frees the trial. A threshold below 1 means the breaker never opens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from agentflow.bundle.profile import CircuitBreaker
from agentflow.runtime.tools.base import FailureKind, ToolError

Clock = Callable[[], int]
"""Milliseconds from a monotonic clock."""

Outcome = Literal["success", "failure", "neutral"]

BREAKER_FAILURES: frozenset[FailureKind] = frozenset(
    {"timeout", "unavailable", "invalid-output", "resources"}
)
"""What counts against a tool: it was reached and failed. A refusal, bad input, a missing
secret or an open circuit says nothing about the tool's health."""


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class BreakerState:
    failures: int = 0
    """Failures in a row since the last success."""
    opened_at_ms: int | None = None
    """When the circuit last opened; None while closed."""
    trial_running: bool = False
    """Half-open: the one trial call is under way."""


CLOSED = BreakerState()


def outcome_of(error: BaseException | None) -> Outcome:
    """How a call's end counts: no error is a success, a `BREAKER_FAILURES` error a failure."""
    if error is None:
        return "success"
    if isinstance(error, ToolError) and error.kind in BREAKER_FAILURES:
        return "failure"
    return "neutral"


def admit(state: BreakerState, settings: CircuitBreaker, now_ms: int) -> tuple[bool, BreakerState]:
    """Whether a call may go now, and the state once it goes (or is refused)."""
    if state.opened_at_ms is None:
        return True, state
    if state.trial_running or now_ms - state.opened_at_ms < settings.reset_after_ms:
        return False, state
    return True, replace(state, trial_running=True)


def record(
    state: BreakerState, settings: CircuitBreaker, outcome: Outcome, now_ms: int
) -> BreakerState:
    """The state after an admitted call ended with ``outcome``."""
    if outcome == "success":
        return CLOSED
    if outcome == "neutral":
        return replace(state, trial_running=False)
    failures = state.failures + 1
    if state.trial_running or (0 < settings.failure_threshold <= failures):
        return BreakerState(failures=failures, opened_at_ms=now_ms, trial_running=False)
    return replace(state, failures=failures)


def retry_in_ms(state: BreakerState, settings: CircuitBreaker, now_ms: int) -> int:
    """How long until an open circuit lets a trial call through (0 when it would now)."""
    if state.opened_at_ms is None:
        return 0
    return max(0, state.opened_at_ms + settings.reset_after_ms - now_ms)


class Breakers:
    """One breaker per profile id, for the calls made through one process."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._states: dict[str, BreakerState] = {}

    def state(self, profile_id: str) -> BreakerState:
        return self._states.get(profile_id, CLOSED)

    def admit(self, profile_id: str, settings: CircuitBreaker) -> None:
        """Let a call through, or raise ``ToolError("circuit-open")`` saying when to retry."""
        now = self._clock()
        allowed, state = admit(self.state(profile_id), settings, now)
        self._states[profile_id] = state
        if not allowed:
            wait = retry_in_ms(state, settings, now)
            why = "a trial call is under way" if state.trial_running else f"retry in {wait} ms"
            raise ToolError(
                "circuit-open",
                f"circuit open for {profile_id!r} after {state.failures} failures in a row; {why}",
            )

    def record(self, profile_id: str, settings: CircuitBreaker, outcome: Outcome) -> None:
        self._states[profile_id] = record(self.state(profile_id), settings, outcome, self._clock())
