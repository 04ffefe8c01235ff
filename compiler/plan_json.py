"""A plan as the JSON of ``plans/<workflow>.json`` (SPEC §3), described by
``schemas/plan.schema.json``.

Input: a `plan_ir.Plan`. Output: plain JSON data, ready for `canonical.canonical_json`. Every key
is always present (null when unset), so readers see one shape; checked conditions are base64.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .plan_ir import (
    PLANNER_VERSIONS,
    ActionNode,
    Binding,
    BtPlan,
    BtPlanNode,
    Condition,
    ConditionNode,
    FsmPlan,
    JsonText,
    ParallelNode,
    Plan,
    RetryPlan,
    SelectorNode,
    SequenceNode,
    StatePlan,
    Step,
)

PLAN_FORMAT = "agentflow.plan/v1"


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan file's content."""
    data: dict[str, Any] = {
        "formatVersion": PLAN_FORMAT,
        "name": plan.name,
        "planner": plan.planner,
        "plannerVersion": PLANNER_VERSIONS[plan.planner],
        "timeoutMs": plan.timeout_ms,
        "inputSchema": _value(plan.input_schema),
    }
    if isinstance(plan, FsmPlan):
        data["fsm"] = {
            "initial": plan.initial,
            "finals": list(plan.finals),
            "states": {state.name: _state(state) for state in plan.states},
        }
    elif isinstance(plan, BtPlan):
        data["bt"] = {"root": _node(plan.root)}
    else:
        data["llm"] = {
            "binding": _binding(plan.binding),
            "prompt": plan.prompt,
            "temperature": plan.temperature,
            "maxSteps": plan.max_steps,
            "allowedDecisions": list(plan.allowed_decisions),
            "outputSchema": _value(plan.output_schema),
            "fallback": plan.fallback,
        }
    return data


def condition_to_json(condition: Condition | None) -> dict[str, Any] | None:
    if condition is None:
        return None
    return {
        "source": condition.source,
        "checked": base64.b64encode(condition.checked).decode("ascii"),
        "resultType": condition.result_type,
    }


def _state(state: StatePlan) -> dict[str, Any]:
    return {
        "step": _step(state.step),
        "transitions": [
            {"target": t.target, "condition": condition_to_json(t.condition)}
            for t in state.transitions
        ],
        "onError": state.on_error,
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "binding": _binding(step.binding),
        "prompt": step.prompt,
        "input": _value(step.input),
        "outputSchema": _value(step.output_schema),
        "timeoutMs": step.timeout_ms,
        "retry": _retry(step.retry),
    }


def _binding(binding: Binding) -> dict[str, Any]:
    return {
        "agent": binding.agent,
        "tool": binding.tool,
        "profile": binding.profile,
        "tools": list(binding.tools),
    }


def _retry(retry: RetryPlan) -> dict[str, Any]:
    return {
        "maxAttempts": retry.max_attempts,
        "backoff": retry.backoff,
        "initialDelayMs": retry.initial_delay_ms,
        "maxDelayMs": retry.max_delay_ms,
        "jitter": retry.jitter,
    }


def _node(node: BtPlanNode) -> dict[str, Any]:
    if isinstance(node, ActionNode):
        return {"kind": "action", "step": _step(node.step)}
    if isinstance(node, ConditionNode):
        return {"kind": "condition", "condition": condition_to_json(node.condition)}
    if isinstance(node, SequenceNode):
        return {"kind": "sequence", "children": [_node(child) for child in node.children]}
    if isinstance(node, SelectorNode):
        return {"kind": "selector", "children": [_node(child) for child in node.children]}
    if isinstance(node, ParallelNode):
        children = [_node(child) for child in node.children]
        return {"kind": "parallel", "policy": node.policy, "children": children}
    branches = [
        {"when": condition_to_json(branch.when), "do": _node(branch.do)} for branch in node.branches
    ]
    return {"kind": "conditional_selector", "branches": branches}


def _value(text: JsonText | None) -> Any:
    return None if text is None else json.loads(text)
