"""The worker: messages in, steps run and recorded exactly once, decisions applied.

Every message names a run. An ``event`` (the start, a fired timer) and a ``signal`` (an
approval or a cancel) are decided in one transaction that locks the run. A ``step`` is run in
three moves, so that a step's result and the run's next state are recorded exactly once however
often the message arrives and whichever worker dies:

1. claim: if the attempt is recorded already, the message is a redelivery and is only
   acknowledged; otherwise take the step's lease, whose epoch is the fencing token;
2. run the call, outside any transaction (side effects are at-least-once; every call carries
   ``Idempotency-Key: <run>:<seq>:<attempt>``);
3. complete, in one transaction: close the lease only if the epoch still holds it (else this
   worker was fenced out and rolls back), insert the step row (unique on run, seq, attempt),
   lock the run, decide, store the new state, append the audit records, write the next
   messages to the outbox. Only then is the message acknowledged.

Decisions are the engine's (`engine.decide`); the worker only carries them out: a `RunStep`
becomes a ``step`` message, a `SetTimer` a timer row, an `AwaitApproval` consumes an approval
that was sent before the run reached the state, a `Finish` anchors the run's audit chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentflow.bundle.conditions import ConditionEvaluator
from agentflow.runtime.audit import digest_of
from agentflow.runtime.bundles import BundleCache
from agentflow.runtime.bus.base import Bus, Delivery
from agentflow.runtime.clock import Clock
from agentflow.runtime.engine.context import Context
from agentflow.runtime.engine.decide import decide
from agentflow.runtime.engine.run import (
    ApprovalExpired,
    ApprovalGiven,
    AwaitApproval,
    CancelRequested,
    Decision,
    Event,
    FallBack,
    Finish,
    RunState,
    RunStep,
    SetTimer,
    StepFailed,
    StepSucceeded,
    state_from_json,
    state_to_json,
)
from agentflow.runtime.logs import about
from agentflow.runtime.messages import (
    event_from_json,
    event_to_json,
    step_from_json,
    step_to_json,
    timer_event,
)
from agentflow.runtime.steps import CallRecord, StepContext, StepOutcome, StepRunner
from agentflow.runtime.store.rows import AlreadyRecorded, RunRow, StepRow
from agentflow.runtime.store.sql import SqlStore, Tx

VARIABLES = ("input", "output", "state", "env")
_log = logging.getLogger("agentflow.runtime.worker")
LEASE_MS = 60_000
"""How long a step's lease lasts before another worker may take the step over; a long step
extends it while it runs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepReport:
    """What an observer (`af run`'s printer) learns when a step is recorded."""

    run_id: str
    step: StepRow
    next: tuple[str, ...]
    """The steps the run dispatched next, by name (an approval state by its name)."""
    retry_at: int | None
    """When the step is tried again, if it failed and will be."""
    status: str
    """The run's status after the step."""


Observer = Callable[[StepReport], None]


def subject_for_events(workflow: str) -> str:
    return f"workflows.{workflow}.in"


def subject_for_step(step: RunStep) -> str:
    return f"agents.{step.binding.agent}.in"


class Worker:
    def __init__(
        self,
        store: SqlStore,
        bus: Bus,
        runner: StepRunner,
        clock: Clock,
        *,
        owner: str,
        bundles: BundleCache | None = None,
        observer: Observer | None = None,
        lease_ms: int = LEASE_MS,
    ) -> None:
        self.store, self.bus, self.runner, self.clock = store, bus, runner, clock
        self.owner, self.lease_ms, self.observer = owner, lease_ms, observer
        self.bundles = bundles or BundleCache(store)
        self.conditions = ConditionEvaluator(VARIABLES)
        self.outbox_dirty = True
        """Whether this worker wrote messages the relay has not looked at (it looks at least
        once); other writers (an API, another process) are found by `relay(force=True)`."""
        self._reports: list[StepReport] = []
        """Approval steps recorded while deciding, reported once their transaction commits."""
        self.next_due: int | None = None
        """The earliest timer this worker set since it last looked, so an idle loop need not
        ask the store each turn."""

    # --- messages --------------------------------------------------------------------------

    async def handle(self, delivery: Delivery) -> None:
        """Handle one message; acknowledged once its effects are committed."""
        payload = delivery.payload
        kind = payload["kind"]
        if kind == "step":
            handled = await self._step(str(payload["run"]), step_from_json(payload["step"]))
            if not handled:  # another worker holds the step's lease: look again later
                await self.bus.nak(delivery, min(self.lease_ms, 1000))
                return
        elif kind == "event":
            self._event(str(payload["run"]), event_from_json(payload["event"]))
        elif kind == "signal":
            self._signal(str(payload["run"]), int(payload["signal"]))
        await self.bus.ack(delivery)
        reports, self._reports = self._reports, []
        if self.observer is not None:
            for report in reports:
                self.observer(report)

    def _event(self, run_id: str, event: Event) -> None:
        with self.store.transaction() as tx:
            run = tx.lock_run(run_id)
            if run is not None:
                self._advance(tx, run, event, [])

    def _signal(self, run_id: str, signal_id: int) -> None:
        now = self.clock.now_ms()
        with self.store.transaction() as tx:
            run = tx.lock_run(run_id)
            if run is None:
                return
            signal = next((s for s in tx.pending_signals(run_id) if s.id == signal_id), None)
            if signal is None:
                return  # consumed already
            state = state_from_json(run.state)
            if signal.kind == "cancel":
                tx.consume_signal(signal.id, now)
                self._advance(
                    tx, run, CancelRequested(signal.by), [("signal.cancel", {"by": signal.by})]
                )
            elif state.waiting_for == signal.state:
                tx.consume_signal(signal.id, now)
                self._advance(tx, run, _approval(signal.state, signal.payload), [])
            # an approval for a state the run has not reached stays pending until it does

    async def _step(self, run_id: str, step: RunStep) -> bool:
        """Run and record one attempt; False when another worker holds its lease."""
        with self.store.transaction() as tx:
            if tx.step_recorded(run_id, step.seq, step.attempt):
                return True  # a redelivery of a step already recorded: replay, do not run
            epoch = tx.claim_lease(run_id, step.seq, self.owner, self.clock.now_ms(), self.lease_ms)
            run = tx.lock_run(run_id) if epoch is not None else None
        if epoch is None:
            return False
        if run is None or run.status in ("succeeded", "failed", "cancelled", "timed_out"):
            return True  # the run ended (cancelled, timed out) while the step waited
        started = self.clock.now_ms()
        with about(run_id, step.name, run.trace_id):
            outcome = await self._run_with_heartbeat(run, step, epoch, started)
            ended = self.clock.now_ms()
            _log.info(
                "step %s attempt %d %s in %d ms%s",
                step.name,
                step.attempt,
                "succeeded" if outcome.ok else "failed",
                ended - started,
                "" if outcome.ok else f": {outcome.error}",
            )
        with self.store.transaction() as tx:
            if not tx.finish_lease(run_id, step.seq, epoch):
                return True  # fenced out: another worker took the step over
            try:
                tx.record_step(_step_row(run_id, step, outcome, started, ended))
            except AlreadyRecorded:
                return True
            locked = tx.lock_run(run_id)
            assert locked is not None
            event: Event = (
                StepSucceeded(step.seq, outcome.output)
                if outcome.ok
                else StepFailed(step.seq, outcome.error or "failed", outcome.retryable)
            )
            records = [("step.finished", _step_audit(step, outcome, started, ended))]
            records += [("tool.call", _call(call)) for call in outcome.calls]
            after = self._advance(tx, locked, event, records)
        if self.observer is not None:
            self.observer(
                StepReport(
                    run_id=run_id,
                    step=_step_row(run_id, step, outcome, started, ended),
                    next=after[1],
                    retry_at=after[2],
                    status=after[0].status,
                )
            )
        return True

    async def _run_with_heartbeat(
        self, run: RunRow, step: RunStep, epoch: int, now: int
    ) -> StepOutcome:
        context = StepContext(
            run_id=run.id,
            trace_id=run.trace_id,
            bundle=self.bundles.get(run.bundle_digest),
            now_ms=now,
        )
        call = asyncio.ensure_future(self.runner.run(context, step))

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.lease_ms / 3000)
                with self.store.transaction() as tx:
                    tx.extend_lease(run.id, step.seq, epoch, self.clock.now_ms() + self.lease_ms)

        heart = asyncio.ensure_future(beat())
        try:
            return await call
        except Exception as error:  # a bug in a caller must fail the step, not the worker
            return StepOutcome(ok=False, error=f"the step could not run: {error}", retryable=False)
        finally:
            heart.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heart

    # --- decisions -------------------------------------------------------------------------

    def _advance(
        self, tx: Tx, run: RunRow, event: Event, records: list[tuple[str, dict[str, Any]]]
    ) -> tuple[RunState, tuple[str, ...], int | None]:
        """Decide ``event`` for the locked ``run`` and carry the decision out in ``tx``: the
        new state, the steps dispatched by name, and when a failed step is retried."""
        now = self.clock.now_ms()
        bundle = self.bundles.get(run.bundle_digest)
        context = Context(bundle.plans, self.conditions, now)
        before = state_from_json(run.state)
        approvals = [self._record_approval(tx, run, before, event, now)]
        decision = decide(context, before, event)
        dispatched: list[str] = []
        retry_at = next(
            (c.at_ms for c in decision.commands if isinstance(c, SetTimer) and c.kind == "retry"),
            None,
        )
        while True:
            follow_up = self._carry_out(tx, run, decision, records, dispatched, now)
            if follow_up is None:
                break
            approvals.append(self._record_approval(tx, run, decision.state, follow_up, now))
            decision = decide(context, decision.state, follow_up)
        state = decision.state
        if state.status != before.status:
            records.append(("run.status", {"from": before.status, "to": state.status}))
        run = tx.update_run(
            run,
            records,
            status=state.status,
            state=state_to_json(state),
            output=state.output,
            error=state.error,
            now=now,
        )
        for row in approvals:
            if row is not None:
                after = tuple(name for name in dispatched if name != row.name)
                self._reports.append(
                    StepReport(
                        run_id=run.id, step=row, next=after, retry_at=None, status=state.status
                    )
                )
        if state.finished:
            tx.cancel_timers(run.id)
            tx.audit_global(
                "run.anchor", {"run": run.id, "records": run.audit_seq, "head": run.audit_head}, now
            )
        return state, tuple(dispatched), retry_at

    def _record_approval(
        self, tx: Tx, run: RunRow, state: RunState, event: Event, now: int
    ) -> StepRow | None:
        """A person's decision (or its timeout) is the approval state's step: recorded like
        any step, so the run's path and its steps show it."""
        if (
            not isinstance(event, ApprovalGiven | ApprovalExpired)
            or event.state != state.waiting_for
        ):
            return None
        attempt = next((a for a in state.in_flight if a.key == event.state), None)
        if attempt is None:
            return None
        given = isinstance(event, ApprovalGiven)
        output = (
            {"approved": event.approved, "approver": event.approver, "comment": event.comment}
            if isinstance(event, ApprovalGiven)
            else None
        )
        row = StepRow(
            run_id=run.id,
            seq=attempt.seq,
            attempt=attempt.attempt,
            name=event.state,
            agent=None,
            tool=None,
            status="succeeded" if given else "failed",
            input=None,
            output=output,
            error=None if given else f"approval of '{event.state}' timed out",
            tokens=0,
            dollars=0.0,
            started_at=now,
            ended_at=now,
        )
        try:
            tx.record_step(row)
        except AlreadyRecorded:
            return None
        return row

    def _carry_out(
        self,
        tx: Tx,
        run: RunRow,
        decision: Decision,
        records: list[tuple[str, dict[str, Any]]],
        dispatched: list[str],
        now: int,
    ) -> Event | None:
        """Write out one decision's commands; returns an event to decide at once (an approval
        that was waiting for the run), else None."""
        follow_up: Event | None = None
        for command in decision.commands:
            if isinstance(command, RunStep):
                payload = {"kind": "step", "run": run.id, "step": step_to_json(command)}
                tx.add_message(subject_for_step(command), payload, now)
                self.outbox_dirty = True
                dispatched.append(command.name)
            elif isinstance(command, SetTimer):
                tx.add_timer(run.id, command.kind, command.key, command.attempt, command.at_ms)
                self.next_due = (
                    command.at_ms if self.next_due is None else min(self.next_due, command.at_ms)
                )
            elif isinstance(command, AwaitApproval):
                records.append(("approval.waiting", {"state": command.state, "role": command.role}))
                early = next(
                    (
                        s
                        for s in tx.pending_signals(run.id)
                        if s.kind == "approve" and s.state == command.state
                    ),
                    None,
                )
                if early is not None:
                    tx.consume_signal(early.id, now)
                    follow_up = _approval(command.state, early.payload)
                dispatched.append(command.state)
            elif isinstance(command, FallBack):
                records.append(("run.fallback", {"plan": command.plan, "reason": command.reason}))
            elif isinstance(command, Finish):
                body = {"status": command.status, "error": command.error}
                body["output"] = digest_of(command.output) if command.output is not None else None
                records.append(("run.finished", body))
        if isinstance(follow_up, ApprovalGiven):
            records.append(
                (
                    "approval.given",
                    {
                        "state": follow_up.state,
                        "approved": follow_up.approved,
                        "approver": follow_up.approver,
                    },
                )
            )
        return follow_up

    # --- the outbox and the timers ---------------------------------------------------------

    async def relay(self, limit: int = 500, *, force: bool = False) -> int:
        """Publish what the outbox holds; returns how many messages went out. A message is
        marked published only after the bus took it; published twice after a crash, the bus
        drops the copy by its id (the outbox row's)."""
        if not (force or self.outbox_dirty):
            return 0
        self.outbox_dirty = False
        with self.store.transaction() as tx:
            rows = tx.unpublished(limit)
        for row in rows:
            await self.bus.publish(row.subject, row.payload, str(row.id))
        if rows:
            with self.store.transaction() as tx:
                tx.mark_published([row.id for row in rows], self.clock.now_ms())
            self.outbox_dirty = len(rows) == limit
        return len(rows)

    def fire_timers(self, limit: int = 500, *, force: bool = False) -> int:
        """Turn due timers into event messages; returns how many fired."""
        now = self.clock.now_ms()
        if not force and (self.next_due is None or self.next_due > now):
            return 0
        self.next_due = None
        with self.store.transaction() as tx:
            due = tx.take_due_timers(now, limit)
            for timer in due:
                run = tx.lock_run(timer.run_id)
                if run is None:
                    continue
                event = event_to_json(timer_event(timer.kind, timer.key, timer.attempt))
                payload = {"kind": "event", "run": run.id, "event": event}
                tx.add_message(subject_for_events(run.workflow), payload, now)
            self.next_due = tx.next_timer_at()
        if due:
            self.outbox_dirty = True
        return len(due)

    def next_timer_at(self) -> int | None:
        with self.store.transaction() as tx:
            self.next_due = tx.next_timer_at()
        return self.next_due


def _approval(state: str | None, payload: Any) -> ApprovalGiven:
    return ApprovalGiven(
        state or "",
        bool(payload["approved"]),
        str(payload["approver"]),
        str(payload.get("comment", "")),
    )


def _step_row(
    run_id: str, step: RunStep, outcome: StepOutcome, started: int, ended: int
) -> StepRow:
    return StepRow(
        run_id=run_id,
        seq=step.seq,
        attempt=step.attempt,
        name=step.name,
        agent=step.binding.agent,
        tool=step.binding.tool,
        status="succeeded" if outcome.ok else "failed",
        input=step.input,
        output=outcome.output if outcome.ok else None,
        error=None if outcome.ok else outcome.error,
        tokens=outcome.tokens,
        dollars=outcome.dollars,
        started_at=started,
        ended_at=ended,
    )


def _step_audit(step: RunStep, outcome: StepOutcome, started: int, ended: int) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "attempt": step.attempt,
        "name": step.name,
        "agent": step.binding.agent,
        "tool": step.binding.tool,
        "profile": step.binding.profile,
        "outcome": "succeeded" if outcome.ok else "failed",
        "input": digest_of(step.input),
        "output": digest_of(outcome.output) if outcome.ok else None,
        "error": outcome.error,
        "durationMs": ended - started,
        "tokens": outcome.tokens,
    }


def _call(call: CallRecord) -> dict[str, Any]:
    return {
        "tool": call.tool,
        "idempotencyKey": call.idempotency_key,
        "input": call.input_hash,
        "output": call.output_hash,
        "durationMs": call.duration_ms,
        "outcome": call.outcome,
    }
