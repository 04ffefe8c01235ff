"""The store on SQLite: the migrated schema is the declared one; a step is recorded once; a
lease fences a worker out; the audit chain catches every kind of tampering."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from agentflow.runtime.audit import seal, verify
from agentflow.runtime.store.rows import AlreadyRecorded, StepRow
from agentflow.runtime.store.schema import SchemaError, connect, migrate, require_current
from agentflow.runtime.store.sql import SqlStore
from agentflow.runtime.store.tables import metadata


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    engine = connect(f"sqlite:///{tmp_path / 'af.db'}")
    migrate(engine)
    return SqlStore(engine)


def test_the_migrations_build_exactly_the_declared_schema(store: SqlStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    with store.engine.connect() as connection:
        mode = connection.execute(text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"


def test_an_unmigrated_database_is_refused_in_one_line(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaError, match="run 'af runtime migrate'"):
        require_current(engine)


def _run(store: SqlStore, run_id: str = "01RUN") -> None:
    with store.transaction() as tx:
        tx.put_bundle("sha256:b", "p", "1.0.0", {"m": 1}, b"archive", 1)
        tx.insert_run(
            id=run_id,
            tenant="default",
            workflow="w",
            bundle_digest="sha256:b",
            environment=None,
            input={"x": 1},
            state={},
            dedup_key=None,
            trace_id="0" * 32,
            now=1,
        )


def _step(seq: int = 1, attempt: int = 1) -> StepRow:
    return StepRow(
        run_id="01RUN",
        seq=seq,
        attempt=attempt,
        name="classify",
        agent="classifier",
        tool=None,
        status="succeeded",
        input=None,
        output={"ok": True},
        error=None,
        tokens=3,
        dollars=0.0,
        started_at=1,
        ended_at=2,
    )


def test_a_step_attempt_is_recorded_once(store: SqlStore) -> None:
    _run(store)
    with store.transaction() as tx:
        tx.record_step(_step())
    with pytest.raises(AlreadyRecorded), store.transaction() as tx:
        tx.record_step(_step())
    assert [(s.seq, s.attempt) for s in store.steps("01RUN")] == [(1, 1)]


def test_a_lease_fences_out_a_worker_that_lost_it(store: SqlStore) -> None:
    _run(store)
    with store.transaction() as tx:
        first = tx.claim_lease("01RUN", 1, "worker-a", now=0, lease_ms=1000)
        assert tx.claim_lease("01RUN", 1, "worker-b", now=10, lease_ms=1000) is None  # alive
    with store.transaction() as tx:
        second = tx.claim_lease("01RUN", 1, "worker-b", now=2000, lease_ms=1000)  # expired
    assert (first, second) == (1, 2)
    with store.transaction() as tx:
        assert not tx.finish_lease("01RUN", 1, first)  # worker-a is fenced out
        assert tx.finish_lease("01RUN", 1, second)
        assert tx.claim_lease("01RUN", 1, "worker-c", now=9999, lease_ms=1000) is None  # done


def _trail(store: SqlStore) -> None:
    _run(store)
    with store.transaction() as tx:
        run = tx.lock_run("01RUN")
        assert run is not None
        run = tx.audit_run(run, [("run.created", {"n": 1})], 5)
        records = [("step", {"n": 2}), ("step", {"n": 3})]
        run = tx.update_run(
            run, records, status="succeeded", state={}, output=None, error=None, now=5
        )
        tx.audit_global(
            "run.anchor", {"run": run.id, "records": run.audit_seq, "head": run.audit_head}, 6
        )


def _verdict(store: SqlStore) -> str | None:
    broken = verify(*store.audit_trail())
    return None if broken is None else str(broken)


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "UPDATE audit SET kind = 'forged' WHERE chain = '01RUN' AND seq = 2",
            "01RUN #2: its content",
        ),
        ("DELETE FROM audit WHERE chain = '01RUN' AND seq = 2", "01RUN #2: record 2 is deleted"),
        ("DELETE FROM audit WHERE chain = '01RUN' AND seq = 3", "01RUN #3: the run's last records"),
        (
            "UPDATE audit SET seq = 9 WHERE chain = '01RUN' AND seq = 1",
            "01RUN #1: record 1 is deleted",
        ),
        (
            "DELETE FROM audit WHERE chain = 'global'",
            "global #0: run 01RUN ended but is not anchored",
        ),
    ],
)
def test_the_audit_chain_names_the_first_tampered_record(
    store: SqlStore, tamper: str, expected: str
) -> None:
    _trail(store)
    assert _verdict(store) is None
    with store.engine.begin() as connection:
        connection.execute(text(tamper))
    verdict = _verdict(store)
    assert verdict is not None and verdict.startswith(expected)


def test_an_inserted_record_breaks_the_chain(store: SqlStore) -> None:
    _trail(store)
    records, _, _ = store.audit_trail()
    first = next(r for r in records if r.chain == "01RUN" and r.seq == 1)
    forged = seal("01RUN", 2, "step", {"n": 99}, 5, first.hash)  # a valid record of its own
    with store.engine.begin() as connection:
        later = (
            connection.execute(
                text("SELECT * FROM audit WHERE chain = '01RUN' AND seq >= 2 ORDER BY seq DESC")
            )
            .mappings()
            .all()
        )
        connection.execute(text("DELETE FROM audit WHERE chain = '01RUN' AND seq >= 2"))
        for row in later:
            connection.execute(
                text(
                    "INSERT INTO audit (chain, seq, kind, body, at, prev_hash, hash) "
                    "VALUES (:chain, :seq, :kind, :body, :at, :prev_hash, :hash)"
                ),
                {**row, "seq": row["seq"] + 1},
            )
        connection.execute(
            text(
                "INSERT INTO audit (chain, seq, kind, body, at, prev_hash, hash) "
                "VALUES ('01RUN', 2, 'step', :body, 5, :prev, :hash)"
            ),
            {"body": '{"n":99}', "prev": forged.prev_hash, "hash": forged.hash},
        )
    verdict = _verdict(store)
    assert verdict is not None and verdict.startswith("01RUN #3: does not follow")
