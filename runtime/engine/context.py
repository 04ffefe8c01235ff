"""What a decision may consult besides the run: the bundle's plans, the CEL evaluator, the time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from agentflow.bundle.plan import Condition, Plan, Step
from agentflow.runtime.engine.run import RunState, RunStep
from agentflow.runtime.engine.values import InterpolationError, interpolate, render_text


class Conditions(Protocol):
    """`agentflow.bundle.conditions.ConditionEvaluator`: a checked expression on JSON values."""

    def evaluate(self, checked: bytes, context: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True, slots=True)
class Context:
    plans: Mapping[str, Plan]
    """Every plan of the run's bundle, by workflow name (a planner's fallback is one of them)."""
    conditions: Conditions
    now_ms: int

    def holds(self, condition: Condition | None, state: RunState) -> bool:
        """Whether ``condition`` holds in ``state`` (no condition always does); a condition
        that gives no bool raises `agentflow.bundle.conditions.ConditionError`."""
        if condition is None:
            return True
        return self.conditions.evaluate(condition.checked, state.scope())


def step_command(
    state: RunState, step: Step, *, seq: int, attempt: int, key: str, name: str, plan: str
) -> RunStep:
    """The command that runs ``step``, its prompt and input interpolated from ``state``; a step
    whose interpolations name nothing is refused rather than called with holes."""
    scope = state.scope()
    refused = None
    prompt: str | None = None
    value: Any = None
    try:
        prompt = render_text(step.prompt, scope) if step.prompt is not None else None
        value = interpolate(json.loads(step.input), scope) if step.input is not None else None
    except InterpolationError as error:
        refused = str(error)
    return RunStep(
        seq=seq,
        attempt=attempt,
        key=key,
        name=name,
        plan=plan,
        binding=step.binding,
        prompt=prompt,
        input=value if step.input is not None else state.input,
        output_schema=step.output_schema,
        timeout_ms=step.timeout_ms,
        refused=refused,
    )
