"""`af runs list|show|cancel|approve`: the runs of the embedded store (``AF_API_URL`` unset).

A cancel or an approval is recorded, then the runtime carries the run on in this process until
it is finished or waits again. In the embedded runtime the local user is trusted: roles are
checked by the control API, which production runs behind (SPEC §4).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys

from agentflow.bundle.scenario import scenario_from_json
from agentflow.runtime.cli import UsageError
from agentflow.runtime.commands.common import repository
from agentflow.runtime.commands.run import run_json
from agentflow.runtime.embedded import Embedded, data_dir
from agentflow.runtime.engine.run import state_from_json
from agentflow.runtime.steps import ScenarioSteps


def run(args: argparse.Namespace) -> int:
    if os.environ.get("AF_API_URL"):
        raise UsageError(
            "af runs against the control API comes with the production runtime (issue 13)"
        )
    root = repository(args.path)
    folder = data_dir(root)
    if not (folder / "runtime.db").is_file():
        raise UsageError(f"{folder}: no embedded runtime here yet (af run creates it)")
    runtime = Embedded(folder)
    if args.action == "list":
        for listed in runtime.store.runs(tenant="default", status=args.status, limit=args.limit):
            print(f"{listed.id}  {listed.workflow}  {listed.status}")
        return 0
    row = runtime.store.run(args.run_id)
    if row is None:
        print(f"af runs: no run {args.run_id}", file=sys.stderr)
        return 1
    if args.action == "show":
        steps = runtime.store.steps(row.id)
        if args.format == "json":
            print(json.dumps({"run": run_json(row, steps)}, indent=2, sort_keys=True))
        else:
            print(f"run {row.id}: {row.workflow} {row.status} (bundle {row.bundle_digest})")
            for step in steps:
                shown = step.error or json.dumps(step.output, sort_keys=True)
                print(f"  {step.seq}.{step.attempt}  {step.name}  {step.status}  {shown}")
        return 0
    if row.scenario is not None:  # a run a scenario answers goes on with its stubs
        answered = [(s.agent, s.tool) for s in runtime.store.steps(row.id)]
        runtime.worker.runner = ScenarioSteps.resumed(scenario_from_json(row.scenario), answered)
    who = getattr(args, "approver", None) or getpass.getuser()
    if args.action == "cancel":
        runtime.signal(row.id, "cancel", None, {}, who)
    else:
        waiting = state_from_json(row.state).waiting_for
        decision = {"approved": not args.deny, "approver": who, "comment": args.comment}
        runtime.signal(row.id, "approve", args.state, decision, who)
        if waiting != args.state:
            print(f"recorded: run {row.id} will take it when it reaches '{args.state}'")
    asyncio.run(runtime.drive([row.id]))
    after = runtime.store.run(row.id)
    assert after is not None
    print(f"run {after.id}: {after.status}")
    return 0
