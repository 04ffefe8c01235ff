"""The embedded runtime: store, bus and workers in one process, nothing to install.

A SQLite file under the data folder (``AF_DATA_DIR``, default ``.af/`` in the repository) is
the record; an in-process bus carries the messages; a pool of worker tasks handles them. The
execution logic is the production runtime's (`worker.Worker`) line for line: only the store's
database and the bus differ. `Embedded.drive` handles messages until the runtime is quiet (every
run finished or waiting for a person), sleeping until the next timer when that is all there is.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agentflow.runtime.audit import digest_of
from agentflow.runtime.bundles import LoadedBundle, store_archive
from agentflow.runtime.bus.memory import MemoryBus
from agentflow.runtime.clock import Clock, SystemClock
from agentflow.runtime.engine.run import RunState, Started, state_to_json
from agentflow.runtime.ids import trace_id, ulid
from agentflow.runtime.messages import event_to_json
from agentflow.runtime.secrets import Redactor
from agentflow.runtime.steps import StepRunner
from agentflow.runtime.store.schema import connect, migrate
from agentflow.runtime.store.sql import SqlStore, Tx
from agentflow.runtime.worker import Observer, Worker, subject_for_events

DATABASE = "runtime.db"
TENANT = "default"


class RunRefused(ValueError):
    """A run that cannot start: an unknown workflow, or a bundle that does not hold it."""


def start_run(
    tx: Tx,
    bundle: LoadedBundle,
    workflow: str,
    input: Any,
    *,
    now: int,
    tenant: str = TENANT,
    environment: str | None = None,
    dedup_key: str | None = None,
    env: Mapping[str, Any] | None = None,
    scenario: Any = None,
) -> str:
    """Accept a run in ``tx``: the run row and its first message are written together; a
    repeated ``dedup_key`` returns the run it started the first time."""
    if workflow not in bundle.plans:
        known = ", ".join(sorted(bundle.plans)) or "none"
        raise RunRefused(f"the bundle has no workflow '{workflow}' (it has: {known})")
    if dedup_key is not None:
        existing = tx.find_by_dedup(tenant, dedup_key)
        if existing is not None:
            return existing
    run_id = ulid(now)
    state = RunState(
        run_id=run_id,
        workflow=workflow,
        plan=workflow,
        input=input,
        env=dict(env if env is not None else bundle.view.manifest.get("toggles", {})),
    )
    tx.insert_run(
        id=run_id,
        tenant=tenant,
        workflow=workflow,
        bundle_digest=bundle.digest,
        environment=environment if environment is not None else bundle.environment,
        input=input,
        state=state_to_json(state),
        dedup_key=dedup_key,
        trace_id=trace_id(),
        now=now,
        scenario=scenario,
    )
    run = tx.lock_run(run_id)
    assert run is not None
    body = {"workflow": workflow, "bundle": bundle.digest, "input": digest_of(input)}
    tx.audit_run(run, [("run.created", body)], now)
    message = {"kind": "event", "run": run_id, "event": event_to_json(Started())}
    tx.add_message(subject_for_events(workflow), message, now)
    return run_id


def data_dir(repository: Path) -> Path:
    """``AF_DATA_DIR``, else ``.af/`` in the repository."""
    configured = os.environ.get("AF_DATA_DIR")
    return Path(configured) if configured else repository / ".af"


class Embedded:
    def __init__(
        self,
        folder: Path,
        runner: StepRunner | None = None,
        *,
        clock: Clock | None = None,
        observer: Observer | None = None,
        concurrency: int = 8,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        engine = connect(f"sqlite:///{folder / DATABASE}")
        migrate(engine)
        self.store = SqlStore(engine)
        self.bus = MemoryBus()
        self.clock = clock or SystemClock()
        self.redactor = Redactor()
        """Every secret value resolved in this process, masked in errors and log lines."""
        if runner is None:  # real calls: tools, models, secrets, budgets in this store
            from agentflow.runtime.live import live_steps

            runner = live_steps(self.store, self.clock, self.redactor)
        self.worker = Worker(
            self.store,
            self.bus,
            runner,
            self.clock,
            owner=f"embedded-{os.getpid()}",
            observer=observer,
        )
        self.concurrency = concurrency

    def add_bundle(self, archive: bytes) -> LoadedBundle:
        with self.store.transaction() as tx:
            bundle, _ = store_archive(tx, archive, self.clock.now_ms())
        return bundle

    def start(self, bundle: LoadedBundle, workflow: str, input: Any, **options: Any) -> str:
        with self.store.transaction() as tx:
            run_id = start_run(tx, bundle, workflow, input, now=self.clock.now_ms(), **options)
        self.worker.outbox_dirty = True
        return run_id

    def signal(self, run_id: str, kind: str, state: str | None, payload: Any, by: str) -> None:
        """Record an approval or a cancel, and the message that makes a worker look at it."""
        now = self.clock.now_ms()
        with self.store.transaction() as tx:
            run = tx.lock_run(run_id)
            if run is None:
                raise RunRefused(f"no run {run_id}")
            signal = tx.add_signal(run_id, kind, state, payload, by, now)
            message = {"kind": "signal", "run": run_id, "signal": signal}
            tx.add_message(subject_for_events(run.workflow), message, now)
        self.worker.outbox_dirty = True

    async def drive(self, runs: Iterable[str], *, limit_s: float | None = None) -> None:
        """Handle messages until each of ``runs`` is finished or waiting for a person,
        sleeping until the next timer when that is all that is left to do."""
        watched = tuple(runs)
        loop = asyncio.get_running_loop()
        deadline = None if limit_s is None else loop.time() + limit_s
        running: set[asyncio.Task[None]] = set()
        await self.worker.relay(force=True)  # what an earlier process left unpublished
        self.worker.fire_timers(force=True)
        while True:
            if deadline is not None and loop.time() > deadline:
                raise TimeoutError(f"the runtime was still busy after {limit_s} s")
            published = await self.worker.relay()
            fired = self.worker.fire_timers()
            while len(running) < self.concurrency:
                delivery = await self.bus.next(0)
                if delivery is None:
                    break
                running.add(asyncio.ensure_future(self.worker.handle(delivery)))
            if running:
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
                continue
            if published or fired or not self.bus.idle():
                await asyncio.sleep(0)
                continue
            if not self.store.unsettled(watched):
                return
            due = self.worker.next_timer_at()
            if due is None:
                raise RuntimeError("a run is neither finished nor waiting, and nothing is due")
            await self.clock.sleep_until(due)
