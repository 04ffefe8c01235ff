"""Agent budgets, kept in the store: tokens and dollars per agent and period.

An agent's ExecProfile may carry a budget (``tokens``, ``dollars``, per ``hour``, ``day``,
``week`` or ``month``). Before each model call the step loop reserves what the call may use; a
reservation that would pass the budget is refused with `BudgetExceeded`, so the step fails with a
clear error instead of overrunning. What a call used is added to the period's row in ``usage``.
Periods are calendar windows in UTC (a week starts on Monday).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, insert, select, update

from agentflow.bundle.profile import Budget as BudgetSpec
from agentflow.bundle.profile import ExecProfile, profile_id
from agentflow.runtime.agents.budget import BudgetExceeded
from agentflow.runtime.store import tables as t
from agentflow.runtime.store.sql import SqlStore


def period_start(period: str, now_ms: int) -> int:
    """The start (ms) of the calendar ``period`` holding ``now_ms``, in UTC."""
    moment = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    if period == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
    elif period == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elif period == "week":
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day - timedelta(days=day.weekday())
    else:
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


class StoreBudget:
    """`agentflow.runtime.agents.budget.Budget` over the store's ``usage`` table."""

    def __init__(
        self, store: SqlStore, profiles: Mapping[str, ExecProfile], now_ms: Callable[[], int]
    ) -> None:
        self._store, self._profiles, self._now = store, profiles, now_ms
        self._held: dict[str, list[int]] = {}
        """Reservations not spent yet, per agent (steps of one agent may run at once)."""

    def _budget(self, agent: str) -> BudgetSpec | None:
        profile = self._profiles.get(profile_id(agent, None))
        return profile.budget if profile is not None else None

    def _used(self, agent: str, budget: BudgetSpec) -> tuple[int, float, int]:
        start = period_start(budget.period, self._now())
        with self._store.engine.connect().execution_options(reading=True) as c:
            row = c.execute(
                select(t.usage.c.tokens, t.usage.c.dollars).where(
                    and_(
                        t.usage.c.agent == agent,
                        t.usage.c.period == budget.period,
                        t.usage.c.period_start == start,
                    )
                )
            ).first()
        return (int(row.tokens), float(row.dollars), start) if row is not None else (0, 0.0, start)

    def reserve(self, agent: str, tokens: int) -> None:
        budget = self._budget(agent)
        if budget is None:
            return
        used, dollars, _ = self._used(agent, budget)
        held = sum(self._held.get(agent, ()))
        if budget.tokens is not None and used + held + tokens > budget.tokens:
            left = max(budget.tokens - used - held, 0)
            raise BudgetExceeded(
                f"agent '{agent}' has {left} of its {budget.tokens} tokens left this "
                f"{budget.period}; the call may need {tokens}"
            )
        if budget.dollars is not None and dollars >= budget.dollars:
            raise BudgetExceeded(
                f"agent '{agent}' has spent its {budget.dollars} dollars this {budget.period}"
            )
        self._held.setdefault(agent, []).append(tokens)

    def spend(self, agent: str, tokens: int, dollars: float) -> None:
        budget = self._budget(agent)
        holds = self._held.get(agent)
        if holds:
            holds.pop(0)  # the oldest reservation ends with this spend, whatever was used
        if budget is None or (tokens == 0 and dollars == 0):
            return
        start = period_start(budget.period, self._now())
        with self._store.transaction() as tx:
            key = and_(
                t.usage.c.agent == agent,
                t.usage.c.period == budget.period,
                t.usage.c.period_start == start,
            )
            found = tx.c.execute(select(t.usage.c.tokens).where(key)).first()
            if found is None:
                tx.c.execute(
                    insert(t.usage).values(
                        agent=agent,
                        period=budget.period,
                        period_start=start,
                        tokens=tokens,
                        dollars=dollars,
                    )
                )
            else:
                tx.c.execute(
                    update(t.usage)
                    .where(key)
                    .values(tokens=t.usage.c.tokens + tokens, dollars=t.usage.c.dollars + dollars)
                )
