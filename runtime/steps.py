"""Running one step: a `RunStep` → its outcome, through the real callers or a scenario's stubs.

The worker hands every step to a `StepRunner` and records what it says. `live.LiveSteps` calls the
step's tool (under the step's (agent, tool) ExecProfile) or, for an ``llm`` agent's own work,
its model; `ScenarioSteps` answers from a scenario's stubs instead of the network. Either way a
step that succeeds with an output its schema refuses fails here, with the validation error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentflow.bundle.scenario import Scenario, StubAnswer
from agentflow.runtime.bundles import LoadedBundle
from agentflow.runtime.engine.run import RunStep

Json = Any


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """A call made inside a step, for the audit trail: what, under which key, how it went."""

    tool: str
    idempotency_key: str
    input_hash: str
    output_hash: str | None
    duration_ms: int
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOutcome:
    ok: bool
    output: Json = None
    error: str | None = None
    retryable: bool = True
    tokens: int = 0
    dollars: float = 0.0
    calls: tuple[CallRecord, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StepContext:
    run_id: str
    trace_id: str
    bundle: LoadedBundle
    now_ms: int


class StepRunner(Protocol):
    async def run(self, context: StepContext, step: RunStep) -> StepOutcome: ...


def checked(step: RunStep, outcome: StepOutcome) -> StepOutcome:
    """``outcome``, failed when its output does not match the step's output schema."""
    if not outcome.ok or step.output_schema is None:
        return outcome
    import jsonschema

    schema = json.loads(step.output_schema)
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(outcome.output)
    )
    if error is None:
        return outcome
    where = "/".join(map(str, error.absolute_path)) or "the output"
    message = f"the output does not match the step's schema at {where}: {error.message}"
    return StepOutcome(ok=False, error=message, retryable=True, tokens=outcome.tokens)


@dataclass
class ScenarioSteps:
    """A scenario's stubs answer, in call order by name; the last answer repeats. A step with a
    tool is answered by the tool's stub when it has one, else by its agent's (SPEC §1)."""

    scenario: Scenario
    used: dict[str, int] = field(default_factory=dict)

    @classmethod
    def resumed(
        cls, scenario: Scenario, answered: Iterable[tuple[str | None, str | None]]
    ) -> ScenarioSteps:
        """The stubs of a run that has already had the steps ``answered`` ((agent, tool) each),
        so each name goes on with its next answer."""
        stubs = dict(scenario.stubs)
        used: dict[str, int] = {}
        for agent, tool in answered:
            name = tool if tool is not None and tool in stubs else agent
            if name is not None:
                used[name] = used.get(name, 0) + 1
        return cls(scenario, used)

    async def run(self, context: StepContext, step: RunStep) -> StepOutcome:
        if step.refused is not None:
            return StepOutcome(ok=False, error=step.refused, retryable=False)
        stubs: Mapping[str, tuple[StubAnswer, ...]] = dict(self.scenario.stubs)
        binding = step.binding
        name = binding.tool if binding.tool is not None and binding.tool in stubs else binding.agent
        answers = stubs.get(name)
        if not answers:
            who = f"{binding.agent}/{binding.tool}" if binding.tool else binding.agent
            return StepOutcome(
                ok=False,
                error=f"scenario '{self.scenario.name}' has no stub for {who}",
                retryable=False,
            )
        index = self.used.get(name, 0)
        self.used[name] = index + 1
        answer = answers[min(index, len(answers) - 1)]
        if answer.error is not None:
            return StepOutcome(ok=False, error=answer.error, retryable=True)
        output = json.loads(answer.output) if answer.output is not None else None
        return checked(step, StepOutcome(ok=True, output=output))
