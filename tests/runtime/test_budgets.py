"""Agent budgets in the store: a reservation past the period's budget is refused before the
call; what is spent adds up per calendar period."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.bundle.plan import NO_RETRY
from agentflow.bundle.profile import Budget, CircuitBreaker, ExecProfile, Residency
from agentflow.runtime.agents.budget import BudgetExceeded
from agentflow.runtime.budgets import StoreBudget, period_start
from agentflow.runtime.store.schema import connect, migrate
from agentflow.runtime.store.sql import SqlStore

DAY = 86_400_000
MONDAY_NOON = 1_764_590_400_000  # 2025-12-01 12:00 UTC, a Monday


def _profile(budget: Budget | None) -> ExecProfile:
    return ExecProfile(
        agent="writer",
        tool=None,
        environment=None,
        permissions=(),
        domains=(),
        timeout_ms=30_000,
        memory_bytes=1,
        cpu_millis=1,
        sandbox="gvisor",
        residency=Residency(
            mode="off", region=None, egress_allow_list=None, agent_region=None, agent_strict=False
        ),
        retry=NO_RETRY,
        circuit_breaker=CircuitBreaker(failure_threshold=5, reset_after_ms=30_000),
        budget=budget,
        concurrency=1,
        model=None,
        cost_per_call=None,
    )


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    engine = connect(f"sqlite:///{tmp_path / 'af.db'}")
    migrate(engine)
    return SqlStore(engine)


def test_periods_are_calendar_windows_in_utc() -> None:
    assert period_start("day", MONDAY_NOON) == MONDAY_NOON - DAY // 2
    assert period_start("hour", MONDAY_NOON + 61_000) == MONDAY_NOON
    assert period_start("week", MONDAY_NOON + 3 * DAY) == MONDAY_NOON - DAY // 2
    assert period_start("month", MONDAY_NOON) == MONDAY_NOON - DAY // 2  # the 1st


def test_a_call_past_the_budget_is_refused_before_it_is_made(store: SqlStore) -> None:
    now = [MONDAY_NOON]
    budget = StoreBudget(
        store, {"writer": _profile(Budget(tokens=1000, dollars=None, period="day"))}, lambda: now[0]
    )
    budget.reserve("writer", 600)
    budget.spend("writer", 550, 0.0)
    budget.reserve("writer", 400)  # 550 used + 400 fits in 1,000
    budget.spend("writer", 400, 0.0)
    with pytest.raises(BudgetExceeded, match="50 of its 1000 tokens left this day"):
        budget.reserve("writer", 100)
    now[0] += DAY  # a new day, a new budget
    budget.reserve("writer", 900)


def test_reservations_held_at_once_count_together(store: SqlStore) -> None:
    budget = StoreBudget(
        store,
        {"writer": _profile(Budget(tokens=1000, dollars=None, period="day"))},
        lambda: MONDAY_NOON,
    )
    budget.reserve("writer", 600)  # two steps of one agent at once
    with pytest.raises(BudgetExceeded):
        budget.reserve("writer", 600)


def test_dollars_spent_stop_further_calls(store: SqlStore) -> None:
    budget = StoreBudget(
        store,
        {"writer": _profile(Budget(tokens=None, dollars=1.0, period="month"))},
        lambda: MONDAY_NOON,
    )
    budget.reserve("writer", 10)
    budget.spend("writer", 10, 1.25)
    with pytest.raises(BudgetExceeded, match="spent its 1.0 dollars"):
        budget.reserve("writer", 10)


def test_an_agent_without_a_budget_is_never_refused(store: SqlStore) -> None:
    budget = StoreBudget(store, {"writer": _profile(None)}, lambda: MONDAY_NOON)
    budget.reserve("writer", 10**9)
    budget.spend("writer", 10**9, 10.0)
