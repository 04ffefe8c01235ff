"""The first schema: bundles, activations, runs, steps, leases, signals, timers, outbox, audit,
usage.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundles",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("project", sa.String(253), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("archive", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "activations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("digest", sa.String(80), sa.ForeignKey("bundles.digest"), nullable=False),
        sa.Column("previous_digest", sa.String(80)),
        sa.Column("commit", sa.String(64)),
        sa.Column("activated_at", sa.BigInteger, nullable=False),
        sa.Column("activated_by", sa.String(253), nullable=False),
    )
    op.create_index("activations_by_environment", "activations", ["tenant", "environment", "id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("workflow", sa.String(63), nullable=False),
        sa.Column("bundle_digest", sa.String(80), sa.ForeignKey("bundles.digest"), nullable=False),
        sa.Column("environment", sa.String(63)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("dedup_key", sa.String(200)),
        sa.Column("scenario", sa.Text),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("audit_head", sa.String(80), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("tenant", "dedup_key", name="runs_dedup"),
    )
    op.create_index("runs_by_status", "runs", ["tenant", "status", "id"])
    op.create_table(
        "steps",
        sa.Column("run_id", sa.String(26), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("agent", sa.String(63)),
        sa.Column("tool", sa.String(63)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("tokens", sa.Integer, nullable=False),
        sa.Column("dollars", sa.Float, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("ended_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", "attempt", name="steps_once"),
    )
    op.create_table(
        "leases",
        sa.Column("run_id", sa.String(26), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="leases_step"),
    )
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(26), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(63)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("by", sa.String(253), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("consumed_at", sa.BigInteger),
    )
    op.create_index("signals_pending", "signals", ["run_id", "consumed_at"])
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(26), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("due_at", sa.BigInteger, nullable=False),
        sa.Column("fired", sa.Boolean, nullable=False),
    )
    op.create_index("timers_due", "timers", ["fired", "due_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("published_at", sa.BigInteger),
    )
    op.create_index("outbox_unpublished", "outbox", ["published_at", "id"])
    op.create_table(
        "audit",
        sa.Column("chain", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.String(80), nullable=False),
        sa.Column("hash", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("chain", "seq", name="audit_order"),
    )
    op.create_table(
        "usage",
        sa.Column("agent", sa.String(63), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("period_start", sa.BigInteger, nullable=False),
        sa.Column("tokens", sa.BigInteger, nullable=False),
        sa.Column("dollars", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("agent", "period", "period_start", name="usage_window"),
    )


def downgrade() -> None:
    for table in (
        "usage",
        "audit",
        "outbox",
        "timers",
        "signals",
        "leases",
        "steps",
        "runs",
        "activations",
        "bundles",
    ):
        op.drop_table(table)
