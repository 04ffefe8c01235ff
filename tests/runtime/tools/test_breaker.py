"""The circuit breaker as a state machine, on a clock the test moves: no sleeping."""

from __future__ import annotations

import pytest

from agentflow.bundle.profile import CircuitBreaker
from agentflow.runtime.tools.base import ToolError
from agentflow.runtime.tools.breaker import (
    CLOSED,
    Breakers,
    BreakerState,
    admit,
    outcome_of,
    record,
)
from tests.runtime.fakes.clock import FakeClock

SETTINGS = CircuitBreaker(failure_threshold=3, reset_after_ms=1000)


def fail_times(state: BreakerState, n: int, now: int) -> BreakerState:
    for _ in range(n):
        allowed, state = admit(state, SETTINGS, now)
        assert allowed
        state = record(state, SETTINGS, "failure", now)
    return state


def test_threshold_failures_in_a_row_open_the_circuit() -> None:
    state = fail_times(CLOSED, 2, now=0)
    assert state.opened_at_ms is None and admit(state, SETTINGS, 0)[0]
    state = fail_times(state, 1, now=5)
    assert state.opened_at_ms == 5
    assert admit(state, SETTINGS, 5 + 999) == (False, state)


def test_a_success_resets_the_count() -> None:
    state = record(fail_times(CLOSED, 2, now=0), SETTINGS, "success", 0)
    assert state == CLOSED
    assert fail_times(state, 2, now=0).opened_at_ms is None


def test_after_the_reset_time_exactly_one_trial_goes() -> None:
    state = fail_times(CLOSED, 3, now=0)
    allowed, trial = admit(state, SETTINGS, 1000)
    assert allowed and trial.trial_running
    assert admit(trial, SETTINGS, 1001) == (False, trial), "a second call waits for the trial"
    assert record(trial, SETTINGS, "success", 1200) == CLOSED


def test_a_failed_trial_opens_the_circuit_again_for_the_full_time() -> None:
    trial = admit(fail_times(CLOSED, 3, now=0), SETTINGS, 1500)[1]
    state = record(trial, SETTINGS, "failure", 1600)
    assert state.opened_at_ms == 1600 and not state.trial_running
    assert not admit(state, SETTINGS, 2599)[0]
    assert admit(state, SETTINGS, 2600)[0]


def test_a_neutral_end_frees_the_trial_and_counts_nothing() -> None:
    opened = fail_times(CLOSED, 3, now=0)
    trial = admit(opened, SETTINGS, 1000)[1]
    state = record(trial, SETTINGS, "neutral", 1000)
    assert state == opened and admit(state, SETTINGS, 1000)[0]
    assert record(fail_times(CLOSED, 2, 0), SETTINGS, "neutral", 0).failures == 2


def test_a_threshold_below_one_never_opens() -> None:
    never = CircuitBreaker(failure_threshold=0, reset_after_ms=1000)
    state = CLOSED
    for _ in range(50):
        state = record(state, never, "failure", 0)
    assert admit(state, never, 0)[0]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "success"),
        (ToolError("timeout", "x"), "failure"),
        (ToolError("unavailable", "x"), "failure"),
        (ToolError("invalid-output", "x"), "failure"),
        (ToolError("resources", "x"), "failure"),
        (ToolError("refused", "x"), "neutral"),
        (ToolError("invalid-input", "x"), "neutral"),
        (ToolError("secret", "x"), "neutral"),
        (ToolError("circuit-open", "x"), "neutral"),
        (KeyError("a bug"), "neutral"),
    ],
)
def test_only_failures_of_the_tool_count(error: BaseException | None, outcome: str) -> None:
    assert outcome_of(error) == outcome


def test_breakers_are_kept_per_profile_and_say_when_to_retry() -> None:
    clock = FakeClock()
    breakers = Breakers(clock)
    for _ in range(3):
        breakers.admit("researcher.kb-search", SETTINGS)
        breakers.record("researcher.kb-search", SETTINGS, "failure")
    clock.now += 400
    with pytest.raises(ToolError) as caught:
        breakers.admit("researcher.kb-search", SETTINGS)
    assert caught.value.kind == "circuit-open"
    assert "retry in 600 ms" in str(caught.value) and "3 failures" in str(caught.value)
    breakers.admit("writer.kb-search", SETTINGS)  # another profile's breaker is closed
    clock.now += 600
    breakers.admit("researcher.kb-search", SETTINGS)
    assert breakers.state("researcher.kb-search").trial_running
