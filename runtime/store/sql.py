"""The store, on SQLAlchemy Core: SQLite embedded, PostgreSQL in production, one code path.

The worker composes its exactly-once steps from the operations of one `Tx` (a transaction):
claim and finish a step's lease, record a step (unique on run, sequence, attempt), lock and
advance a run, consume signals, set timers, write outbox messages and audit records. Reads for
the CLI and the API sit on `SqlStore` itself. Locking a run is ``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite every transaction is ``BEGIN IMMEDIATE``, which already serializes writers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from agentflow.runtime.audit import GENESIS, GLOBAL, AuditRecord, seal
from agentflow.runtime.store import statements as s
from agentflow.runtime.store import tables as t
from agentflow.runtime.store.rows import (
    AlreadyRecorded,
    OutboxRow,
    RunRow,
    SignalRow,
    StepRow,
    TimerRow,
    from_text,
    run_row,
    step_row,
    to_text,
)


class Tx:
    """One transaction's operations. Obtain it from `SqlStore.transaction`."""

    def __init__(self, connection: Connection, postgres: bool) -> None:
        self.c = connection
        self._postgres = postgres

    # --- bundles ---------------------------------------------------------------------------

    def put_bundle(
        self, digest: str, project: str, version: str, manifest: Any, archive: bytes, now: int
    ) -> bool:
        """Store a bundle by its digest; False when it was there already (a no-op)."""
        exists = self.c.execute(select(t.bundles.c.digest).where(t.bundles.c.digest == digest))
        if exists.first() is not None:
            return False
        self.c.execute(
            insert(t.bundles).values(
                digest=digest,
                project=project,
                version=version,
                manifest=to_text(manifest),
                archive=archive,
                stored_at=now,
            )
        )
        return True

    # --- runs ------------------------------------------------------------------------------

    def find_by_dedup(self, tenant: str, dedup_key: str) -> str | None:
        row = self.c.execute(
            select(t.runs.c.id).where(
                and_(t.runs.c.tenant == tenant, t.runs.c.dedup_key == dedup_key)
            )
        ).first()
        return None if row is None else str(row.id)

    def insert_run(
        self,
        *,
        id: str,
        tenant: str,
        workflow: str,
        bundle_digest: str,
        environment: str | None,
        input: Any,
        state: Any,
        dedup_key: str | None,
        trace_id: str,
        now: int,
        scenario: Any = None,
    ) -> None:
        self.c.execute(
            insert(t.runs).values(
                id=id,
                tenant=tenant,
                workflow=workflow,
                bundle_digest=bundle_digest,
                environment=environment,
                status="pending",
                input=to_text(input),
                output=None,
                error=None,
                state=to_text(state),
                dedup_key=dedup_key,
                scenario=to_text(scenario) if scenario is not None else None,
                trace_id=trace_id,
                audit_seq=0,
                audit_head=GENESIS,
                created_at=now,
                updated_at=now,
            )
        )

    def lock_run(self, run_id: str) -> RunRow | None:
        """The run, locked until the transaction ends."""
        row = self.c.execute(
            s.LOCK_RUN_PG if self._postgres else s.LOCK_RUN, {"b_run": run_id}
        ).first()
        return None if row is None else run_row(row)

    def update_run(
        self,
        run: RunRow,
        records: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        status: str,
        state: Any,
        output: Any,
        error: str | None,
        now: int,
    ) -> RunRow:
        """Store the run's new state, with ``records`` appended to its audit chain, in one
        update; returns the run with its new audit head."""
        seq, head = self._chain(run, records, now)
        self.c.execute(
            s.UPDATE_RUN,
            {
                "b_run": run.id,
                "status": status,
                "state": to_text(state),
                "output": to_text(output) if output is not None else None,
                "error": error,
                "updated_at": now,
                "audit_seq": seq,
                "audit_head": head,
            },
        )
        return dataclasses.replace(run, audit_seq=seq, audit_head=head)

    # --- steps and leases ------------------------------------------------------------------

    def step_recorded(self, run_id: str, seq: int, attempt: int) -> bool:
        found = self.c.execute(
            s.STEP_RECORDED, {"b_run": run_id, "b_seq": seq, "b_attempt": attempt}
        )
        return found.first() is not None

    def claim_lease(self, run_id: str, seq: int, owner: str, now: int, lease_ms: int) -> int | None:
        """Take the lease of step ``seq`` and return its new epoch (the fencing token); None
        while another worker's lease on it is alive, or once the step is done."""
        row = self.c.execute(s.LEASE, {"b_run": run_id, "b_seq": seq}).first()
        if row is None:
            values = {"run_id": run_id, "seq": seq, "epoch": 1, "owner": owner}
            self.c.execute(s.NEW_LEASE, {**values, "expires_at": now + lease_ms, "done": False})
            return 1
        if row.done or (row.owner != owner and row.expires_at > now):
            return None
        epoch = int(row.epoch) + 1
        self.c.execute(
            s.RENEW_LEASE,
            {
                "b_run": run_id,
                "b_seq": seq,
                "epoch": epoch,
                "owner": owner,
                "expires_at": now + lease_ms,
            },
        )
        return epoch

    def extend_lease(self, run_id: str, seq: int, epoch: int, until: int) -> bool:
        done = self.c.execute(
            s.EXTEND_LEASE, {"b_run": run_id, "b_seq": seq, "b_epoch": epoch, "expires_at": until}
        )
        return bool(done.rowcount)

    def finish_lease(self, run_id: str, seq: int, epoch: int) -> bool:
        """Close the lease if ``epoch`` still holds it; False: this worker was fenced out."""
        done = self.c.execute(s.FINISH_LEASE, {"b_run": run_id, "b_seq": seq, "b_epoch": epoch})
        return bool(done.rowcount)

    def record_step(self, step: StepRow) -> None:
        """Insert the step's row; raises `AlreadyRecorded` when the attempt has one."""
        try:
            with self.c.begin_nested():
                row = dataclasses.asdict(step)
                row["input"] = to_text(step.input) if step.input is not None else None
                row["output"] = to_text(step.output) if step.output is not None else None
                self.c.execute(s.INSERT_STEP, row)
        except IntegrityError:
            raise AlreadyRecorded(f"{step.run_id} step {step.seq} attempt {step.attempt}") from None

    # --- signals and timers ----------------------------------------------------------------

    def add_signal(
        self, run_id: str, kind: str, state: str | None, payload: Any, by: str, now: int
    ) -> int:
        result = self.c.execute(
            insert(t.signals).values(
                run_id=run_id,
                kind=kind,
                state=state,
                payload=to_text(payload),
                by=by,
                created_at=now,
                consumed_at=None,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def pending_signals(self, run_id: str) -> list[SignalRow]:
        rows = self.c.execute(s.PENDING_SIGNALS, {"b_run": run_id})
        return [
            SignalRow(
                id=r.id,
                run_id=r.run_id,
                kind=r.kind,
                state=r.state,
                payload=from_text(r.payload),
                by=r.by,
            )
            for r in rows
        ]

    def consume_signal(self, signal_id: int, now: int) -> None:
        self.c.execute(update(t.signals).where(t.signals.c.id == signal_id).values(consumed_at=now))

    def add_timer(self, run_id: str, kind: str, key: str, attempt: int, due_at: int) -> None:
        self.c.execute(
            s.INSERT_TIMER,
            {
                "run_id": run_id,
                "kind": kind,
                "key": key,
                "attempt": attempt,
                "due_at": due_at,
                "fired": False,
            },
        )

    def cancel_timers(self, run_id: str) -> None:
        """A finished run's timers will never matter: they are marked fired."""
        self.c.execute(
            update(t.timers)
            .where(and_(t.timers.c.run_id == run_id, t.timers.c.fired.is_(False)))
            .values(fired=True)
        )

    def take_due_timers(self, now: int, limit: int) -> list[TimerRow]:
        """Due timers, marked fired in this transaction."""
        query = (
            select(t.timers)
            .where(and_(t.timers.c.fired.is_(False), t.timers.c.due_at <= now))
            .order_by(t.timers.c.due_at, t.timers.c.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        rows = [
            TimerRow(
                id=r.id, run_id=r.run_id, kind=r.kind, key=r.key, attempt=r.attempt, due_at=r.due_at
            )
            for r in self.c.execute(query)
        ]
        if rows:
            self.c.execute(
                update(t.timers).where(t.timers.c.id.in_([r.id for r in rows])).values(fired=True)
            )
        return rows

    def next_timer_at(self) -> int | None:
        found = self.c.execute(
            select(func.min(t.timers.c.due_at)).where(t.timers.c.fired.is_(False))
        ).scalar()
        return None if found is None else int(found)

    # --- outbox ----------------------------------------------------------------------------

    def add_message(self, subject: str, payload: Any, now: int) -> int:
        result = self.c.execute(
            s.INSERT_MESSAGE, {"subject": subject, "payload": to_text(payload), "created_at": now}
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def unpublished(self, limit: int) -> list[OutboxRow]:
        query = (
            select(t.outbox)
            .where(t.outbox.c.published_at.is_(None))
            .order_by(t.outbox.c.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        return [
            OutboxRow(id=r.id, subject=r.subject, payload=from_text(r.payload))
            for r in self.c.execute(query)
        ]

    def mark_published(self, ids: Sequence[int], now: int) -> None:
        if ids:
            self.c.execute(
                update(t.outbox).where(t.outbox.c.id.in_(list(ids))).values(published_at=now)
            )

    # --- audit -----------------------------------------------------------------------------

    def audit_run(
        self, run: RunRow, records: Sequence[tuple[str, Mapping[str, Any]]], now: int
    ) -> RunRow:
        """Append records to the run's chain; returns the run with its new head. (A change of
        state appends its records with `update_run`, in the same statement.)"""
        seq, head = self._chain(run, records, now)
        if seq != run.audit_seq:
            self.c.execute(
                update(t.runs).where(t.runs.c.id == run.id).values(audit_seq=seq, audit_head=head)
            )
        return dataclasses.replace(run, audit_seq=seq, audit_head=head)

    def _chain(
        self, run: RunRow, records: Sequence[tuple[str, Mapping[str, Any]]], now: int
    ) -> tuple[int, str]:
        seq, head = run.audit_seq, run.audit_head
        for kind, body in records:
            seq += 1
            record = seal(run.id, seq, kind, body, now, head)
            self._insert_audit(record)
            head = record.hash
        return seq, head

    def audit_global(self, kind: str, body: Mapping[str, Any], now: int) -> AuditRecord:
        last = self.c.execute(
            select(t.audit.c.seq, t.audit.c.hash)
            .where(t.audit.c.chain == GLOBAL)
            .order_by(t.audit.c.seq.desc())
            .limit(1)
        ).first()
        seq, prev = (int(last.seq), str(last.hash)) if last is not None else (0, GENESIS)
        record = seal(GLOBAL, seq + 1, kind, body, now, prev)
        self._insert_audit(record)
        return record

    def _insert_audit(self, record: AuditRecord) -> None:
        self.c.execute(
            s.INSERT_AUDIT,
            {
                "chain": record.chain,
                "seq": record.seq,
                "kind": record.kind,
                "body": to_text(dict(record.body)),
                "at": record.at,
                "prev_hash": record.prev_hash,
                "hash": record.hash,
            },
        )


class SqlStore:
    """The store on one database; every write goes through `transaction`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._writer: Connection | None = None
        """SQLite: the one connection every write goes through. SQLite has one writer at a
        time anyway, and keeping it saves the pool's checkout, reset and checkin on every
        transaction. PostgreSQL takes a pooled connection per transaction."""
        if not self._postgres:
            self._writer = engine.connect()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        if self._writer is None:
            with self.engine.begin() as connection:
                yield Tx(connection, self._postgres)
            return
        with self._writer.begin():
            yield Tx(self._writer, self._postgres)

    # --- reads -----------------------------------------------------------------------------

    def _read(self) -> Connection:
        return self.engine.connect().execution_options(reading=True)

    def bundle_archive(self, digest: str) -> bytes | None:
        with self._read() as c:
            row = c.execute(select(t.bundles.c.archive).where(t.bundles.c.digest == digest)).first()
            return None if row is None else bytes(row.archive)

    def run(self, run_id: str) -> RunRow | None:
        with self._read() as c:
            row = c.execute(select(t.runs).where(t.runs.c.id == run_id)).first()
            return None if row is None else run_row(row)

    def unsettled(self, run_ids: Sequence[str]) -> int:
        """How many of ``run_ids`` are neither finished nor waiting for a person."""
        settled = ("succeeded", "failed", "cancelled", "timed_out", "waiting")
        count = 0
        with self._read() as c:
            for start in range(0, len(run_ids), 500):
                chunk = list(run_ids[start : start + 500])
                count += int(
                    c.execute(
                        select(func.count())
                        .select_from(t.runs)
                        .where(t.runs.c.id.in_(chunk), t.runs.c.status.not_in(settled))
                    ).scalar_one()
                )
        return count

    def runs(
        self, *, tenant: str, status: str | None = None, after: str | None = None, limit: int = 50
    ) -> list[RunRow]:
        """Runs newest first; ``after`` is the cursor (the last id of the previous page)."""
        query = select(t.runs).where(t.runs.c.tenant == tenant)
        if status is not None:
            query = query.where(t.runs.c.status == status)
        if after is not None:
            query = query.where(t.runs.c.id < after)
        with self._read() as c:
            return [run_row(r) for r in c.execute(query.order_by(t.runs.c.id.desc()).limit(limit))]

    def steps(self, run_id: str) -> list[StepRow]:
        with self._read() as c:
            rows = c.execute(
                select(t.steps)
                .where(t.steps.c.run_id == run_id)
                .order_by(t.steps.c.seq, t.steps.c.attempt)
            )
            return [step_row(r) for r in rows]

    def audit_trail(self) -> tuple[list[AuditRecord], dict[str, tuple[int, str]], list[str]]:
        """Every record in (chain, seq) order, each run's head, and the runs that ended."""
        with self._read() as c:
            records = [
                AuditRecord(
                    chain=r.chain,
                    seq=r.seq,
                    kind=r.kind,
                    body=from_text(r.body),
                    at=r.at,
                    prev_hash=r.prev_hash,
                    hash=r.hash,
                )
                for r in c.execute(select(t.audit).order_by(t.audit.c.chain, t.audit.c.seq))
            ]
            heads: dict[str, tuple[int, str]] = {}
            finished: list[str] = []
            for r in c.execute(
                select(t.runs.c.id, t.runs.c.audit_seq, t.runs.c.audit_head, t.runs.c.status)
            ):
                heads[r.id] = (int(r.audit_seq), str(r.audit_head))
                if r.status in ("succeeded", "failed", "cancelled", "timed_out"):
                    finished.append(r.id)
            return records, heads, finished
