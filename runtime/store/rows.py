"""What the store hands back: frozen rows, and JSON as the store keeps it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


def to_text(value: Any) -> str:
    """JSON as the store keeps it: compact, keys sorted, so equal values are equal text. Nothing
    stored is hashed from this text (audit hashes are over canonical JSON, `audit.seal`);
    a value JSON cannot hold (NaN, a huge integer) is refused here, as it is everywhere."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def from_text(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class AlreadyRecorded(Exception):
    """The step row exists: another worker recorded this attempt first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRow:
    id: str
    tenant: str
    workflow: str
    bundle_digest: str
    environment: str | None
    status: str
    input: Any
    output: Any
    error: str | None
    state: Any
    scenario: Any
    """The scenario whose stubs answer this run (its JSON), or None for a live run."""
    trace_id: str
    audit_seq: int
    audit_head: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRow:
    run_id: str
    seq: int
    attempt: int
    name: str
    agent: str | None
    tool: str | None
    status: str
    input: Any
    output: Any
    error: str | None
    tokens: int
    dollars: float
    started_at: int
    ended_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalRow:
    id: int
    run_id: str
    kind: str
    state: str | None
    payload: Any
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerRow:
    id: int
    run_id: str
    kind: str
    key: str
    attempt: int
    due_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    id: int
    subject: str
    payload: Any


def run_row(row: Any) -> RunRow:
    return RunRow(
        id=row.id,
        tenant=row.tenant,
        workflow=row.workflow,
        bundle_digest=row.bundle_digest,
        environment=row.environment,
        status=row.status,
        input=from_text(row.input),
        output=from_text(row.output),
        error=row.error,
        state=from_text(row.state),
        scenario=from_text(row.scenario),
        trace_id=row.trace_id,
        audit_seq=row.audit_seq,
        audit_head=row.audit_head,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def step_row(row: Any) -> StepRow:
    return StepRow(
        run_id=row.run_id,
        seq=row.seq,
        attempt=row.attempt,
        name=row.name,
        agent=row.agent,
        tool=row.tool,
        status=row.status,
        input=from_text(row.input),
        output=from_text(row.output),
        error=row.error,
        tokens=row.tokens,
        dollars=row.dollars,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )
