"""`af test [PATH] [--scenario NAME] [--format text|json|junit]`: every Scenario of the
repository, run on the embedded runtime with its stubs and a virtual clock (no network, no
waiting); each failure says the expected and the actual status and path."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from agentflow.bundle.scenario import Scenario
from agentflow.runtime.cli import UsageError
from agentflow.runtime.clock import VirtualClock
from agentflow.runtime.commands.common import compiled, read_scenarios, repository
from agentflow.runtime.embedded import Embedded
from agentflow.runtime.engine.run import state_from_json
from agentflow.runtime.steps import ScenarioSteps


@dataclass(frozen=True, slots=True)
class Result:
    scenario: Scenario
    status: str
    path: tuple[str, ...]
    error: str | None

    @property
    def passed(self) -> bool:
        expected = self.scenario.expect_path
        return self.status == self.scenario.expect_status and (
            expected is None or expected == self.path
        )


def run(args: argparse.Namespace) -> int:
    root = repository(args.path)
    built = compiled(root, environment=None, scenarios=True)
    if isinstance(built, int):
        return built
    scenarios = read_scenarios(built)
    if args.scenario is not None:
        scenarios = tuple(s for s in scenarios if s.name == args.scenario)
        if not scenarios:
            raise UsageError(f"no scenario '{args.scenario}'")
    archive = built.archive.read_bytes()
    results = [_run(scenario, archive) for scenario in scenarios]
    print(_render(results, args.format))
    return 0 if all(r.passed for r in results) else 1


def _run(scenario: Scenario, archive: bytes) -> Result:
    with tempfile.TemporaryDirectory(prefix="af-test-") as folder:
        runtime = Embedded(Path(folder), ScenarioSteps(scenario), clock=VirtualClock())
        bundle = runtime.add_bundle(archive)
        run_id = runtime.start(
            bundle,
            scenario.workflow,
            json.loads(scenario.input) if scenario.input else {},
            scenario=scenario.to_json(),
        )
        for state, answer in scenario.approvals:
            runtime.signal(run_id, "approve", state, answer.to_json(), answer.approver)
        asyncio.run(runtime.drive([run_id], limit_s=60))
        row = runtime.store.run(run_id)
        assert row is not None
        path = tuple(step.name for step in runtime.store.steps(run_id))
        waiting = state_from_json(row.state).waiting_for
        if row.status == "waiting" and waiting is not None:
            path = (*path, waiting)  # the state the run waits in is where its path stands
        runtime.store.close()
        return Result(scenario, row.status, path, row.error)


def _render(results: list[Result], form: str) -> str:
    if form == "json":
        return json.dumps(
            {
                "scenarios": [
                    {
                        "name": r.scenario.name,
                        "workflow": r.scenario.workflow,
                        "passed": r.passed,
                        "expected": {
                            "status": r.scenario.expect_status,
                            "path": r.scenario.expect_path,
                        },
                        "actual": {"status": r.status, "path": list(r.path)},
                        "error": r.error,
                    }
                    for r in results
                ],
                "summary": {
                    "passed": sum(r.passed for r in results),
                    "failed": sum(not r.passed for r in results),
                },
            },
            indent=2,
            sort_keys=True,
        )
    if form == "junit":
        return _junit(results)
    lines = []
    for r in results:
        where = f"{r.scenario.file}:{r.scenario.line}"
        if r.passed:
            lines.append(f"ok    {r.scenario.name} ({r.scenario.workflow}) {r.status}")
            continue
        lines.append(f"FAIL  {r.scenario.name} ({r.scenario.workflow}) at {where}")
        lines.append(f"      expected: {r.scenario.expect_status} {_path(r.scenario.expect_path)}")
        lines.append(
            f"      actual:   {r.status} {_path(r.path)}" + (f" ({r.error})" if r.error else "")
        )
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(lines)


def _path(path: tuple[str, ...] | None) -> str:
    return "(any path)" if path is None else "[" + ", ".join(path) + "]"


def _junit(results: list[Result]) -> str:
    failures = sum(not r.passed for r in results)
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    out.append(f'<testsuite name="af test" tests="{len(results)}" failures="{failures}">')
    for r in results:
        name, suite = quoteattr(r.scenario.name), quoteattr(r.scenario.workflow)
        out.append(f"  <testcase classname={suite} name={name} file={quoteattr(r.scenario.file)}>")
        if not r.passed:
            message = (
                f"expected {r.scenario.expect_status} {_path(r.scenario.expect_path)}, "
                f"got {r.status} {_path(r.path)}"
            )
            out.append(
                f"    <failure message={quoteattr(message)}>{escape(r.error or '')}</failure>"
            )
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out)
