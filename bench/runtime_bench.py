"""Benchmark: the embedded runtime on a no-op 5-state FSM, against a SQLite floor.

Each step of the workflow answers at once (a scenario's stub), so what is measured is the
runtime itself: the decision, the step's lease, its recorded row, the run's new state, the
audit records and the outbox, on SQLite (WAL). The floor, measured in the same run on the
same disk, is one SQLite WAL transaction per step doing an insert, an update and a commit with
the standard sqlite3 module. The aim (issue 12): at least 5,000 steps/s, within 2x the floor.

    .venv/bin/python bench/runtime_bench.py [--workflows N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from agentflow.bundle.archive import write_archive
from agentflow.bundle.scenario import Scenario, StubAnswer
from agentflow.compiler.build.assemble import assemble_bundle
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.provenance import NOT_IN_GIT
from agentflow.compiler.source.snapshot import read_folder
from agentflow.runtime.embedded import Embedded
from agentflow.runtime.steps import ScenarioSteps
from agentflow.runtime.worker import StepReport

STATES = 5
REPO = {
    "af.yaml": """\
apiVersion: agentflow.dev/v1
kind: Project
metadata: {name: bench}
spec: {version: 0.1.0, afVersion: ">=0.1 <1.0"}
""",
    "agents/noop.yaml": """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: noop}
spec: {type: llm, model: {provider: local, name: none}}
""",
    "workflows/five.yaml": "apiVersion: agentflow.dev/v1\nkind: Workflow\nmetadata: {name: five}\n"
    "spec:\n  initial_state: s1\n  final_states: [s5]\n  states:\n"
    + "".join(
        f"    s{i}: {{agent: noop" + (f", on_success: s{i + 1}" if i < STATES else "") + "}\n"
        for i in range(1, STATES + 1)
    ),
}


def _archive(folder: Path) -> bytes:
    repo = folder / "repo"
    for name, text in REPO.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    validation = validate_snapshot(read_folder(repo))
    assert not validation.report.has_errors(), validation.report.diagnostics()
    bundle = assemble_bundle(validation, NOT_IN_GIT, 0)
    out = folder / bundle.name
    for name, data in bundle.files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return write_archive(out, folder / "bundle.tar.gz", mtime=0).read_bytes()


def _floor(folder: Path, steps: int) -> list[float]:
    """Seconds per step of one insert + update + commit in SQLite WAL."""
    db = sqlite3.connect(folder / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, state TEXT)")
    db.execute("CREATE TABLE steps (run INTEGER, seq INTEGER, output TEXT, PRIMARY KEY (run, seq))")
    db.execute("INSERT INTO runs VALUES (1, '{}')")
    times = []
    for seq in range(steps):
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO steps VALUES (1, ?, '{}')", (seq,))
        db.execute("UPDATE runs SET state = ? WHERE id = 1", (json.dumps({"seq": seq}),))
        db.execute("COMMIT")
        times.append(time.perf_counter() - started)
    db.close()
    return times


def _runtime(
    folder: Path, archive: bytes, workflows: int, concurrency: int
) -> tuple[float, list[float]]:
    scenario = Scenario(
        name="noop",
        workflow="five",
        input=None,
        stubs=(("noop", (StubAnswer(output="{}", error=None),)),),
        approvals=(),
        expect_status="succeeded",
        expect_path=None,
        file="",
        line=0,
    )
    steps: list[float] = []

    def observe(report: StepReport) -> None:
        steps.append(time.perf_counter())

    runtime = Embedded(
        folder / "data", ScenarioSteps(scenario), observer=observe, concurrency=concurrency
    )
    bundle = runtime.add_bundle(archive)
    warm = [runtime.start(bundle, "five", {}) for _ in range(10)]
    asyncio.run(runtime.drive(warm))
    steps.clear()
    started = time.perf_counter()
    runs = [runtime.start(bundle, "five", {}) for _ in range(workflows)]
    asyncio.run(runtime.drive(runs))
    elapsed = time.perf_counter() - started
    for run_id in runs:
        row = runtime.store.run(run_id)
        assert row is not None and row.status == "succeeded", row
    gaps = [b - a for a, b in zip([started, *steps[:-1]], steps, strict=True)]
    return elapsed, gaps


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        archive = _archive(folder)
        total_steps = args.workflows * STATES
        floor = _floor(folder, total_steps)
        elapsed, gaps = _runtime(folder, archive, args.workflows, args.concurrency)
    floor_p50 = statistics.median(floor)
    step_p50 = statistics.median(gaps)
    step_p95 = statistics.quantiles(gaps, n=20)[-1]
    print(f"embedded runtime: {args.workflows} workflows of {STATES} no-op steps")
    print(f"  concurrency {args.concurrency}")
    print(f"floor (WAL insert+update+commit): p50 {floor_p50 * 1e6:7.0f} us/step")
    print(f"runtime: p50 {step_p50 * 1e6:7.0f} us/step, p95 {step_p95 * 1e6:7.0f} us")
    print(f"runtime: {total_steps / elapsed:8.0f} steps/s ({elapsed:.2f} s)")
    print(f"per-step p50 / floor p50: {step_p50 / floor_p50:8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
