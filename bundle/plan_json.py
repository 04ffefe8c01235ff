"""A plan as the JSON of ``plans/<workflow>.json`` (SPEC §3), described by
``schemas/plan.schema.json``.

Input: a `plan.Plan`. Output: plain JSON data, ready for `canonical.canonical_json`. Every key
is always present (null when unset), so readers see one shape; checked conditions are base64.
`plan_from_json` reads it back (for `af diff` of bundles), checking ``formatVersion``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.plan import (
    PLANNER_VERSIONS,
    ActionNode,
    ApprovalPlan,
    Binding,
    Branch,
    BtPlan,
    BtPlanNode,
    Condition,
    ConditionalSelectorNode,
    ConditionNode,
    FsmPlan,
    JsonText,
    LlmPlan,
    ParallelNode,
    Plan,
    RetryPlan,
    SelectorNode,
    SequenceNode,
    StatePlan,
    Step,
    Transition,
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
            "binding": binding_to_json(plan.binding),
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
    approval = state.approval
    return {
        "step": _step(state.step) if state.step is not None else None,
        "approval": None
        if approval is None
        else {"role": approval.role, "timeoutMs": approval.timeout_ms, "prompt": approval.prompt},
        "transitions": [
            {"target": t.target, "condition": condition_to_json(t.condition)}
            for t in state.transitions
        ],
        "onError": state.on_error,
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "binding": binding_to_json(step.binding),
        "prompt": step.prompt,
        "input": _value(step.input),
        "outputSchema": _value(step.output_schema),
        "timeoutMs": step.timeout_ms,
        "retry": retry_to_json(step.retry),
    }


def binding_to_json(binding: Binding) -> dict[str, Any]:
    return {
        "agent": binding.agent,
        "tool": binding.tool,
        "profile": binding.profile,
        "tools": list(binding.tools),
    }


def retry_to_json(retry: RetryPlan) -> dict[str, Any]:
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


# --- reading ---------------------------------------------------------------------------------


class PlanFormatError(ValueError):
    """A plan file this compiler cannot read: another format version, or not a plan."""


def plan_from_json(data: Any) -> Plan:
    """The plan a ``plans/<workflow>.json`` holds; the inverse of `plan_to_json`.

    Raises `PlanFormatError` for another ``formatVersion`` or a document of the wrong shape.
    """
    if not isinstance(data, dict) or data.get("formatVersion") != PLAN_FORMAT:
        found = data.get("formatVersion") if isinstance(data, dict) else type(data).__name__
        raise PlanFormatError(f"not a plan of format {PLAN_FORMAT} (found {found!r})")
    try:
        return _read_plan(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PlanFormatError(f"plan '{data.get('name')}' is malformed: {error!r}") from None


def _read_plan(data: dict[str, Any]) -> Plan:
    common = {
        "name": str(data["name"]),
        "timeout_ms": data["timeoutMs"],
        "input_schema": _text(data["inputSchema"]),
    }
    planner = data["planner"]
    if planner == "fsm":
        fsm = data["fsm"]
        states = tuple(_read_state(name, state) for name, state in fsm["states"].items())
        return FsmPlan(**common, initial=fsm["initial"], finals=tuple(fsm["finals"]), states=states)
    if planner == "bt":
        return BtPlan(**common, root=_read_node(data["bt"]["root"]))
    if planner == "llm":
        llm = data["llm"]
        return LlmPlan(
            **common,
            binding=binding_from_json(llm["binding"]),
            prompt=llm["prompt"],
            temperature=float(llm["temperature"]),
            max_steps=int(llm["maxSteps"]),
            allowed_decisions=tuple(llm["allowedDecisions"]),
            output_schema=_text(llm["outputSchema"]),
            fallback=llm["fallback"],
        )
    raise ValueError(f"unknown planner {planner!r}")


def condition_from_json(data: Any) -> Condition | None:
    if data is None:
        return None
    return Condition(
        source=str(data["source"]),
        checked=base64.b64decode(data["checked"], validate=True),
        result_type=str(data["resultType"]),
    )


def _read_state(name: str, data: dict[str, Any]) -> StatePlan:
    transitions = tuple(
        Transition(target=t["target"], condition=condition_from_json(t["condition"]))
        for t in data["transitions"]
    )
    approval = data["approval"]
    if (data["step"] is None) == (approval is None):
        raise ValueError(f"state {name!r} must have exactly one of a step and an approval")
    return StatePlan(
        name=name,
        step=_read_step(data["step"]) if data["step"] is not None else None,
        approval=None
        if approval is None
        else ApprovalPlan(
            role=str(approval["role"]),
            timeout_ms=approval["timeoutMs"],
            prompt=approval["prompt"],
        ),
        transitions=transitions,
        on_error=data["onError"],
    )


def _read_step(data: dict[str, Any]) -> Step:
    return Step(
        binding=binding_from_json(data["binding"]),
        prompt=data["prompt"],
        input=_text(data["input"]),
        output_schema=_text(data["outputSchema"]),
        timeout_ms=data["timeoutMs"],
        retry=retry_from_json(data["retry"]),
    )


def retry_from_json(data: dict[str, Any]) -> RetryPlan:
    return RetryPlan(
        max_attempts=int(data["maxAttempts"]),
        backoff=data["backoff"],
        initial_delay_ms=int(data["initialDelayMs"]),
        max_delay_ms=data["maxDelayMs"],
        jitter=bool(data["jitter"]),
    )


def binding_from_json(data: dict[str, Any]) -> Binding:
    return Binding(
        agent=str(data["agent"]),
        tool=data["tool"],
        profile=str(data["profile"]),
        tools=tuple(data["tools"]),
    )


def _read_node(data: dict[str, Any]) -> BtPlanNode:
    kind = data["kind"]
    if kind == "action":
        return ActionNode(step=_read_step(data["step"]))
    if kind == "condition":
        condition = condition_from_json(data["condition"])
        if condition is None:
            raise ValueError("a condition node without a condition")
        return ConditionNode(condition=condition)
    if kind in ("sequence", "selector", "parallel"):
        children = tuple(_read_node(child) for child in data["children"])
        if kind == "sequence":
            return SequenceNode(children=children)
        if kind == "selector":
            return SelectorNode(children=children)
        return ParallelNode(policy=data["policy"], children=children)
    if kind == "conditional_selector":
        branches = tuple(
            Branch(when=condition_from_json(b["when"]), do=_read_node(b["do"]))
            for b in data["branches"]
        )
        return ConditionalSelectorNode(branches=branches)
    raise ValueError(f"unknown node kind {kind!r}")


def _text(value: Any) -> JsonText | None:
    """A JSON value back to the canonical text the plan holds."""
    return None if value is None else canonical_json(value).decode("utf-8")
