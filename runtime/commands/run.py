"""`af run WORKFLOW [PATH] [--input JSON|--input-file F] [--scenario NAME] [--env ENV]
[--bundle DIR] [--format text|json]`: one run on the embedded runtime, steps printed as they
happen; exit 0 when it succeeded, 1 when it ended otherwise."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentflow.runtime.cli import UsageError
from agentflow.runtime.commands.common import (
    archive_bytes,
    compiled,
    parse_input,
    read_scenarios,
    repository,
    step_line,
)
from agentflow.runtime.embedded import Embedded, RunRefused, data_dir
from agentflow.runtime.engine.run import state_from_json
from agentflow.runtime.logs import configure
from agentflow.runtime.steps import ScenarioSteps
from agentflow.runtime.store.rows import RunRow, StepRow
from agentflow.runtime.worker import StepReport


def run(args: argparse.Namespace) -> int:
    root = repository(args.path)
    scenario = None
    if args.bundle is not None:
        if args.scenario is not None:
            raise UsageError("--scenario needs the repository compiled: leave out --bundle")
        archive = archive_bytes(Path(args.bundle))
    else:
        built = compiled(root, environment=args.env, scenarios=args.scenario is not None)
        if isinstance(built, int):
            return built
        archive = built.archive.read_bytes()
        if args.scenario is not None:
            found = {s.name: s for s in read_scenarios(built)}
            if args.scenario not in found:
                known = ", ".join(sorted(found)) or "none"
                raise UsageError(f"no scenario '{args.scenario}' (scenarios: {known})")
            scenario = found[args.scenario]
    default = json.loads(scenario.input) if scenario is not None and scenario.input else {}
    value = parse_input(args.input, args.input_file, default)
    runner = ScenarioSteps(scenario) if scenario is not None else None  # None: real calls
    text = args.format == "text"
    runtime = Embedded(data_dir(root), runner, observer=_printer() if text else None)
    configure(
        args.log_format,
        runtime.redactor.redact,
        logging.INFO if args.log_format == "json" else logging.WARNING,
    )
    bundle = runtime.add_bundle(archive)
    if scenario is not None and scenario.workflow != args.workflow:
        raise UsageError(f"scenario '{scenario.name}' tests workflow '{scenario.workflow}'")
    try:
        run_id = runtime.start(
            bundle,
            args.workflow,
            value,
            scenario=scenario.to_json() if scenario is not None else None,
        )
    except RunRefused as refused:
        print(f"af run: {refused}", file=sys.stderr)
        return 1
    for state, answer in scenario.approvals if scenario is not None else ():
        runtime.signal(run_id, "approve", state, answer.to_json(), answer.approver)
    asyncio.run(runtime.drive([run_id]))
    row = runtime.store.run(run_id)
    assert row is not None
    steps = runtime.store.steps(run_id)
    if text:
        print(f"run {row.id}: {row.status}" + (f": {row.error}" if row.error else ""))
        if row.output is not None:
            print(json.dumps(row.output, indent=2, sort_keys=True, ensure_ascii=False))
        waiting = state_from_json(row.state).waiting_for
        if row.status == "waiting" and waiting is not None:
            where = f"--path {args.path}"
            print(f"  waiting in '{waiting}': af runs approve {row.id} {waiting} {where}")
    else:
        print(
            json.dumps({"run": run_json(row, steps)}, indent=2, sort_keys=True, ensure_ascii=False)
        )
    return 0 if row.status == "succeeded" else 1


def rfc3339_ms(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _printer() -> Any:
    def show(report: StepReport) -> None:
        print(step_line(report), flush=True)

    return show


def run_json(row: RunRow, steps: list[StepRow]) -> dict[str, Any]:
    """A run as ``--format json`` prints it (SPEC §4)."""
    return {
        "id": row.id,
        "workflow": row.workflow,
        "bundle": row.bundle_digest,
        "status": row.status,
        "output": row.output,
        "error": row.error,
        "steps": [
            {
                "state": s.name,
                "agent": s.agent,
                "tool": s.tool,
                "attempt": s.attempt,
                "status": s.status,
                "output": s.output,
                "error": s.error,
                "startedAt": rfc3339_ms(s.started_at),
                "endedAt": rfc3339_ms(s.ended_at),
            }
            for s in steps
        ],
    }
