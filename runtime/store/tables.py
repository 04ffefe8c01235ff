"""The runtime's tables (SQLAlchemy 2 Core), the same on SQLite and PostgreSQL.

Times are integer milliseconds since the epoch; JSON is stored as canonical text, so a value
reads back byte for byte on either database.

- ``bundles``: content-addressed by digest (the archive as uploaded or built, its manifest);
- ``activations``: which bundle each environment runs, every activation kept, newest wins;
- ``runs``: one row per run, pinned to the bundle digest it started on, with the engine's state
  (and, for a run a scenario's stubs answer, that scenario);
- ``steps``: each recorded attempt, unique on (run, seq, attempt): a step is recorded once;
- ``leases``: who executes a step now, with its fencing epoch;
- ``signals``: approvals and cancels, kept until the run consumes them;
- ``timers``: retries, approval timeouts and deadlines, due at a time;
- ``outbox``: messages written with the transaction that caused them, relayed to the bus after;
- ``audit``: hash-chained records, one chain per run plus the ``global`` chain of anchors;
- ``usage``: tokens and dollars spent per agent and budget period.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

bundles = Table(
    "bundles",
    metadata,
    Column("digest", String(80), primary_key=True),
    Column("project", String(253), nullable=False),
    Column("version", String(64), nullable=False),
    Column("manifest", Text, nullable=False),
    Column("archive", LargeBinary, nullable=False),
    Column("stored_at", BigInteger, nullable=False),
)

activations = Table(
    "activations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("environment", String(63), nullable=False),
    Column("digest", String(80), ForeignKey("bundles.digest"), nullable=False),
    Column("previous_digest", String(80)),
    Column("commit", String(64)),
    Column("activated_at", BigInteger, nullable=False),
    Column("activated_by", String(253), nullable=False),
    Index("activations_by_environment", "tenant", "environment", "id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("workflow", String(63), nullable=False),
    Column("bundle_digest", String(80), ForeignKey("bundles.digest"), nullable=False),
    Column("environment", String(63)),
    Column("status", String(16), nullable=False),
    Column("input", Text),
    Column("output", Text),
    Column("error", Text),
    Column("state", Text, nullable=False),
    Column("dedup_key", String(200)),
    Column("scenario", Text),
    Column("trace_id", String(32), nullable=False),
    Column("audit_seq", Integer, nullable=False, default=0),
    Column("audit_head", String(80), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "dedup_key", name="runs_dedup"),
    Index("runs_by_status", "tenant", "status", "id"),
)

steps = Table(
    "steps",
    metadata,
    Column("run_id", String(26), ForeignKey("runs.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("agent", String(63)),
    Column("tool", String(63)),
    Column("status", String(16), nullable=False),
    Column("input", Text),
    Column("output", Text),
    Column("error", Text),
    Column("tokens", Integer, nullable=False, default=0),
    Column("dollars", Float, nullable=False, default=0.0),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "seq", "attempt", name="steps_once"),
)

leases = Table(
    "leases",
    metadata,
    Column("run_id", String(26), ForeignKey("runs.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("done", Boolean, nullable=False, default=False),
    PrimaryKeyConstraint("run_id", "seq", name="leases_step"),
)

signals = Table(
    "signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(26), ForeignKey("runs.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(63)),
    Column("payload", Text, nullable=False),
    Column("by", String(253), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("consumed_at", BigInteger),
    Index("signals_pending", "run_id", "consumed_at"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(26), ForeignKey("runs.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key", String(200), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("fired", Boolean, nullable=False, default=False),
    Index("timers_due", "fired", "due_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("published_at", BigInteger),
    Index("outbox_unpublished", "published_at", "id"),
)

audit = Table(
    "audit",
    metadata,
    Column("chain", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("prev_hash", String(80), nullable=False),
    Column("hash", String(80), nullable=False),
    PrimaryKeyConstraint("chain", "seq", name="audit_order"),
)

usage = Table(
    "usage",
    metadata,
    Column("agent", String(63), nullable=False),
    Column("period", String(8), nullable=False),
    Column("period_start", BigInteger, nullable=False),
    Column("tokens", BigInteger, nullable=False, default=0),
    Column("dollars", Float, nullable=False, default=0.0),
    PrimaryKeyConstraint("agent", "period", "period_start", name="usage_window"),
)
