"""A pure driver for engine tests: scripted answers in, the run's path and end state out.

No store, no bus, no clock: each command is answered at once (a retry timer fires at its time,
an approval comes from the script), so a test reads as the run it describes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.conditions import ConditionEvaluator
from agentflow.bundle.plan import Plan
from agentflow.bundle.plan_json import plan_from_json, plan_to_json
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from agentflow.runtime.engine.context import Context
from agentflow.runtime.engine.decide import decide
from agentflow.runtime.engine.run import (
    ApprovalGiven,
    AwaitApproval,
    Command,
    Event,
    FallBack,
    Finish,
    RetryDue,
    RunState,
    RunStep,
    SetTimer,
    Started,
    state_from_json,
    state_to_json,
)
from agentflow.runtime.engine.values import Json
from tests.conftest import EXAMPLE_REPO

Answer = Callable[[RunStep], Event]


@cache
def example_plans() -> Mapping[str, Plan]:
    """The example's plans as a runtime reads them: through their JSON."""
    validation = validate_snapshot(read_folder(EXAMPLE_REPO))
    assert not validation.report.has_errors()
    return {
        name: plan_from_json(json.loads(canonical_json(plan_to_json(plan))))
        for name, plan in validation.plans.items()
    }


@dataclass
class Trace:
    state: RunState
    steps: list[RunStep] = field(default_factory=list)
    timers: list[SetTimer] = field(default_factory=list)
    fallbacks: list[FallBack] = field(default_factory=list)
    approvals: list[AwaitApproval] = field(default_factory=list)
    finish: Finish | None = None

    @property
    def path(self) -> list[str]:
        return [step.name for step in self.steps]


def drive(
    workflow: str,
    answer: Answer,
    *,
    input: Json = None,
    approvals: Mapping[str, tuple[bool, str, str]] | None = None,
    plans: Mapping[str, Plan] | None = None,
    limit: int = 200,
) -> Trace:
    """Run ``workflow`` to its end (or until it waits), answering each step with ``answer``.

    Every state is stored and loaded back as JSON between decisions, as a worker would."""
    plans = plans if plans is not None else example_plans()
    evaluator = ConditionEvaluator(("input", "output", "state", "env"))
    now = 0
    state = RunState(run_id="run-1", workflow=workflow, plan=workflow, input=input, env={})
    trace = Trace(state)
    queue: list[Event] = [Started()]
    while queue and limit:
        limit -= 1
        event = queue.pop(0)
        decision = decide(Context(plans, evaluator, now), state, event)
        state = state_from_json(json.loads(json.dumps(state_to_json(decision.state))))
        assert state == decision.state
        for command in decision.commands:
            queue.extend(_answer(command, trace, answer, approvals or {}))
            if isinstance(command, SetTimer) and command.kind == "retry":
                now = max(now, command.at_ms)
    trace.state = state
    assert limit, "the run did not end"
    return trace


def _answer(
    command: Command,
    trace: Trace,
    answer: Answer,
    approvals: Mapping[str, tuple[bool, str, str]],
) -> list[Event]:
    if isinstance(command, RunStep):
        trace.steps.append(command)
        return [answer(command)]
    if isinstance(command, SetTimer):
        trace.timers.append(command)
        return [RetryDue(command.key, command.attempt)] if command.kind == "retry" else []
    if isinstance(command, AwaitApproval):
        trace.approvals.append(command)
        decided = approvals.get(command.state)
        return [] if decided is None else [ApprovalGiven(command.state, *decided)]
    if isinstance(command, FallBack):
        trace.fallbacks.append(command)
        return []
    trace.finish = command
    return []
