"""The audit trail: hash-chained records, and the check that finds any edit.

Every state change, step, tool call, approval and fallback of a run is a record in that run's
chain; when a run ends, an anchor (its chain's length and last hash) joins the ``global`` chain,
as do bundle uploads and activations. A record's ``hash`` is ``sha256`` over the canonical JSON of
its chain, position, kind, body, time and the previous record's hash, so `verify` finds a record
that was edited, deleted (inside a chain, at its end, or a whole run's), inserted or reordered,
and names the first one. Bodies hold hashes of inputs and outputs, never values that may be
secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentflow.bundle.canonical import canonical_json, sha256_digest

GENESIS = "sha256:" + "0" * 64
GLOBAL = "global"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    chain: str
    seq: int
    kind: str
    body: Mapping[str, Any]
    at: int
    prev_hash: str
    hash: str


def seal(
    chain: str, seq: int, kind: str, body: Mapping[str, Any], at: int, prev: str
) -> AuditRecord:
    """The record that follows ``prev`` in ``chain``, with its hash."""
    return AuditRecord(
        chain=chain,
        seq=seq,
        kind=kind,
        body=body,
        at=at,
        prev_hash=prev,
        hash=_hash(chain, seq, kind, body, at, prev),
    )


def _hash(chain: str, seq: int, kind: str, body: Mapping[str, Any], at: int, prev: str) -> str:
    content = {"chain": chain, "seq": seq, "kind": kind, "body": dict(body), "at": at, "prev": prev}
    return sha256_digest(canonical_json(content))


def digest_of(value: Any) -> str:
    """What an audit record holds of a value: its hash."""
    return sha256_digest(canonical_json(value))


@dataclass(frozen=True, slots=True)
class Broken:
    chain: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}: {self.reason}"


def verify(
    records: Iterable[AuditRecord], heads: Mapping[str, tuple[int, str]], finished: Iterable[str]
) -> Broken | None:
    """The first broken record, or None when the trail is intact.

    ``records`` in (chain, seq) order; ``heads`` each run's (length, last hash) as its row says;
    ``finished`` the runs that ended, each of which must be anchored in the global chain."""
    tails: dict[str, tuple[int, str]] = {}
    anchors: dict[str, tuple[int, str]] = {}
    chain, expected_seq, prev = "", 1, GENESIS
    for record in records:
        if record.chain != chain:
            chain, expected_seq, prev = record.chain, 1, GENESIS
        if record.seq != expected_seq:
            missing = "deleted" if record.seq > expected_seq else "out of order"
            return Broken(chain, expected_seq, f"record {expected_seq} is {missing}")
        if record.prev_hash != prev:
            return Broken(
                chain, record.seq, "does not follow the record before it (inserted or reordered)"
            )
        if (
            _hash(record.chain, record.seq, record.kind, record.body, record.at, record.prev_hash)
            != record.hash
        ):
            return Broken(chain, record.seq, "its content does not match its hash (edited)")
        if chain == GLOBAL and record.kind == "run.anchor":
            anchors[str(record.body["run"])] = (
                int(record.body["records"]),
                str(record.body["head"]),
            )
        tails[chain] = (record.seq, record.hash)
        expected_seq, prev = record.seq + 1, record.hash
    for run, head in sorted(heads.items()):
        if tails.get(run, (0, GENESIS)) != head:
            return Broken(run, head[0], "the run's last records are missing or replaced")
    for run, anchor in sorted(anchors.items()):
        if tails.get(run) != anchor:
            return Broken(run, anchor[0], "the run's records do not end where its anchor says")
    for run in sorted(set(finished)):
        if run not in anchors:
            return Broken(GLOBAL, 0, f"run {run} ended but is not anchored")
    return None
