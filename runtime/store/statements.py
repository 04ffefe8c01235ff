"""The statements every step runs, built once with bind parameters.

Constructing a SQLAlchemy clause costs far more than executing it: before these were built once,
most of a step's time went into building its statements (bench/runtime_bench.py).
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from agentflow.runtime.store import tables as t

LOCK_RUN = select(t.runs).where(t.runs.c.id == bindparam("b_run"))
LOCK_RUN_PG = LOCK_RUN.with_for_update()
UPDATE_RUN = (
    update(t.runs)
    .where(t.runs.c.id == bindparam("b_run"))
    .values(
        status=bindparam("status"),
        state=bindparam("state"),
        output=bindparam("output"),
        error=bindparam("error"),
        updated_at=bindparam("updated_at"),
        audit_seq=bindparam("audit_seq"),
        audit_head=bindparam("audit_head"),
    )
)
STEP_RECORDED = select(t.steps.c.seq).where(
    t.steps.c.run_id == bindparam("b_run"),
    t.steps.c.seq == bindparam("b_seq"),
    t.steps.c.attempt == bindparam("b_attempt"),
)
LEASE = select(t.leases).where(
    t.leases.c.run_id == bindparam("b_run"), t.leases.c.seq == bindparam("b_seq")
)
NEW_LEASE = insert(t.leases)
RENEW_LEASE = (
    update(t.leases)
    .where(t.leases.c.run_id == bindparam("b_run"), t.leases.c.seq == bindparam("b_seq"))
    .values(epoch=bindparam("epoch"), owner=bindparam("owner"), expires_at=bindparam("expires_at"))
)
HELD_LEASE = (
    t.leases.c.run_id == bindparam("b_run"),
    t.leases.c.seq == bindparam("b_seq"),
    t.leases.c.epoch == bindparam("b_epoch"),
    t.leases.c.done.is_(False),
)
EXTEND_LEASE = update(t.leases).where(*HELD_LEASE).values(expires_at=bindparam("expires_at"))
FINISH_LEASE = update(t.leases).where(*HELD_LEASE).values(done=True)
INSERT_STEP = insert(t.steps)
INSERT_MESSAGE = insert(t.outbox)
INSERT_AUDIT = insert(t.audit)
INSERT_TIMER = insert(t.timers)
PENDING_SIGNALS = (
    select(t.signals)
    .where(t.signals.c.run_id == bindparam("b_run"), t.signals.c.consumed_at.is_(None))
    .order_by(t.signals.c.id)
)
