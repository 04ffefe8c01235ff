"""What a scenario's stubs answer: the steps a run of a plan may take, and who answers each.
(part of AF905, AF906, AF911)

Input: a compiled plan and the plans its fallback may name. Output: its steps (`StepRef`), as a
path names them and as a message does, with the output schema each must match; its approval
states; and the JSON Schema check a stubbed output or an input goes through. A step with a tool
is answered by that tool's stub when there is one, else by its agent's; an LLM plan's steps are
its planner's turn and the steps of its fallback (`agentflow.bundle.scenario`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentflow.bundle.plan import BtPlan, FsmPlan, JsonText, LlmPlan, Plan
from agentflow.bundle.queries import bt_steps
from agentflow.compiler.check.paths import action_name
from agentflow.compiler.diagnostics.positions import YamlPath


@dataclass(frozen=True, slots=True)
class StepRef:
    """A step of the plan a scenario runs, as stubs and paths see it."""

    name: str
    """What a path calls it: the state, ``agent`` or ``agent/tool``, the planner agent."""
    label: str
    """How a message names it: ``state 'classify'``."""
    agent: str
    tool: str | None
    output_schema: JsonText | None


def plan_steps(plan: Plan, plans: Mapping[str, Plan]) -> Iterator[StepRef]:
    """Every step a run of ``plan`` may take, a fallback's included."""
    if isinstance(plan, FsmPlan):
        for state in plan.states:
            if state.step is not None:
                binding = state.step.binding
                label = f"state '{state.name}'"
                yield StepRef(
                    state.name, label, binding.agent, binding.tool, state.step.output_schema
                )
    elif isinstance(plan, BtPlan):
        for step in bt_steps(plan.root):
            name = action_name(step.binding.agent, step.binding.tool)
            yield StepRef(
                name, f"action '{name}'", step.binding.agent, step.binding.tool, step.output_schema
            )
    else:
        agent = plan.binding.agent
        yield StepRef(agent, "the planner's turn", agent, None, plan.output_schema)
        fallback = plans.get(plan.fallback) if plan.fallback is not None else None
        if isinstance(fallback, FsmPlan):
            for ref in plan_steps(fallback, plans):
                label = f"{ref.label} of the fallback '{fallback.name}'"
                yield StepRef(ref.name, label, ref.agent, ref.tool, ref.output_schema)


def approval_states(plan: Plan, plans: Mapping[str, Plan]) -> tuple[str, ...]:
    """The approval states a run of ``plan`` may wait at, its fallback's included."""
    if isinstance(plan, LlmPlan) and plan.fallback is not None:
        fallback = plans.get(plan.fallback)
        return approval_states(fallback, plans) if isinstance(fallback, FsmPlan) else ()
    if isinstance(plan, FsmPlan):
        return tuple(s.name for s in plan.states if s.approval is not None)
    return ()


def answering_stub(step: StepRef, stubs: Mapping[str, object]) -> str | None:
    """The stub that answers ``step``: its tool's, else its agent's (SPEC §1)."""
    if step.tool is not None and step.tool in stubs:
        return step.tool
    return step.agent if step.agent in stubs else None


def schema_errors(schema: JsonText, value: Any) -> list[tuple[YamlPath, str]]:
    """Where ``value`` breaks the JSON Schema ``schema`` (draft 2020-12 unless it names
    another), and why; empty when it matches, or when the schema itself is broken (AF211 says
    so where it is written)."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import SchemaError
    from referencing.exceptions import Unresolvable

    loaded = json.loads(schema)
    validator_class = validators.validator_for(loaded, default=Draft202012Validator)
    try:
        validator_class.check_schema(loaded)
        errors = sorted(
            validator_class(loaded).iter_errors(value), key=lambda e: list(map(str, e.path))
        )
    except (SchemaError, Unresolvable):
        return []
    return [(tuple(e.absolute_path), e.message) for e in errors]
