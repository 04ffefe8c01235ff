"""The Workflow kind, one model per planner: FSM states, behavior-tree nodes, the LLM planner.

Behavior-tree nodes are a tagged union on the node's one key (`BT_NODE_KINDS`); workflows are a
tagged union on ``planner`` (``fsm`` when absent); an FSM state runs a step (`State`, with an
``agent``) or waits for a person (`ApprovalState`, with an ``approval``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, ValidationInfo, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from agentflow.compiler.model.base import (
    Cel,
    Duration,
    Int,
    JsonObject,
    JsonSchemaRef,
    Model,
    Name,
    Number,
    Retry,
    StateName,
    Str,
)

# --- Workflow ------------------------------------------------------------------------------


class Transition(Model):
    condition: Cel | None = Field(
        None, description="CEL; without one, the transition is the default."
    )
    target: StateName


class _StateBase(Model):
    description: Str = ""
    transitions: tuple[Transition, ...] | None = Field(
        None, description="First match wins. Use either transitions or on_success."
    )
    on_success: StateName | None = Field(None, description="The next state after success.")
    on_error: StateName | None = Field(None, description="The next state after a failure.")


class State(_StateBase):
    """A state that runs one step: an agent, and optionally one of its tools."""

    agent: Name = Field(description="The Agent that runs this step.")
    tool: Name | None = Field(
        None, description="A Tool the agent calls; the step's output is typed by its outputSchema."
    )
    prompt: Str | None = Field(
        None, description="For llm agents; may use {{ input.x }}, {{ output.x }}, {{ state.x }}."
    )
    input: JsonObject | None = Field(
        None, description="The step's input; string values may use {{ input.x }} and the like."
    )
    output: JsonSchemaRef | None = Field(None, description="The schema of the step's output.")
    timeout: Duration | None = None
    retry: Retry | None = None


class Approval(Model):
    role: Name = Field(
        description="Only a caller holding this role may decide: an RBAC role some Policy defines."
    )
    timeout: Duration | None = Field(
        None, description="How long the run waits; then the state fails and on_error is taken."
    )
    prompt: Str | None = Field(
        None, description="What the person is asked; may use {{ output.x }} and the like."
    )


STEP_ONLY_FIELDS = ("agent", "tool", "prompt", "input", "output", "timeout", "retry")
"""What a state that runs a step takes and an approval state refuses (AF214)."""


_Refused = SkipJsonSchema[None]
"""A field an approval state refuses with a message of its own (AF214), not as an unknown
field; left out of the published schema, which refuses it as any other unknown field."""


class ApprovalState(_StateBase):
    """A state that waits for a person; its output is {approved, approver, comment}."""

    approval: Approval = Field(
        description="Wait for a person holding role; the output is {approved: bool, "
        "approver: string, comment: string}. A timeout takes on_error."
    )
    agent: _Refused = None
    tool: _Refused = None
    prompt: _Refused = None
    input: _Refused = None
    output: _Refused = None
    timeout: _Refused = None
    retry: _Refused = None

    @field_validator(*STEP_ONLY_FIELDS, mode="before")
    @classmethod
    def _refuse(cls, value: Any, info: ValidationInfo) -> Any:
        field = info.field_name
        if field == "agent":
            message = "a state runs an agent or waits for an approval, not both"
            hint = "remove 'agent' (and the step's fields), or remove 'approval'"
        elif field in ("timeout", "prompt"):
            message = f"an approval state takes '{field}' inside 'approval'"
            hint = f"write approval: {{role: ..., {field}: ...}}"
        else:
            message = f"an approval state runs no step, so it takes no '{field}'"
            hint = "its output is the decision {approved, approver, comment}; remove the field"
        raise PydanticCustomError("af_approval_field", message, {"hint": hint})


def _state_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "approval" if "approval" in value else "step"
    return "approval" if isinstance(value, ApprovalState) else "step"


AnyState = Annotated[
    Annotated[State, Tag("step")] | Annotated[ApprovalState, Tag("approval")],
    Discriminator(_state_kind),
    Field(description="A state: one step (agent, tool, …) or a wait for a person (approval)."),
]


class _WorkflowBase(Model):
    description: Str = ""
    timeout: Duration | None = None
    input: JsonSchemaRef | None = None


class FsmWorkflow(_WorkflowBase):
    planner: Literal["fsm"] = Field("fsm", description="fsm (the default) | bt | llm")
    initial_state: StateName = Field(description="The state a run starts in.")
    final_states: tuple[StateName, ...] = Field(description="The states a run ends in.")
    states: dict[StateName, AnyState] = Field(
        description="Each state by name: one step, or an approval."
    )


class Action(Model):
    agent: Name
    tool: Name | None = None
    prompt: Str | None = None
    input: JsonObject | None = None
    output: JsonSchemaRef | None = None
    timeout: Duration | None = None
    retry: Retry | None = None


class ConditionNode(Model):
    when: Cel


class Parallel(Model):
    policy: Literal["all_success", "one_success"] = "all_success"
    children: tuple[BtNode, ...]


class Guarded(Model):
    when: Cel | None = Field(None, description="CEL; the last branch may omit it (the default).")
    do: BtNode


class SequenceN(Model):
    sequence: tuple[BtNode, ...]


class SelectorN(Model):
    selector: tuple[BtNode, ...]


class ParallelN(Model):
    parallel: Parallel


class ConditionN(Model):
    condition: ConditionNode


class ActionN(Model):
    action: Action


class ConditionalSelectorN(Model):
    conditional_selector: tuple[Guarded, ...]


BT_NODE_KINDS = ("sequence", "selector", "parallel", "condition", "action", "conditional_selector")


def _bt_node_kind(value: Any) -> str | None:
    if isinstance(value, dict) and value:
        return str(next(iter(value)))
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


BtNode = Annotated[
    Annotated[SequenceN, Tag("sequence")]
    | Annotated[SelectorN, Tag("selector")]
    | Annotated[ParallelN, Tag("parallel")]
    | Annotated[ConditionN, Tag("condition")]
    | Annotated[ActionN, Tag("action")]
    | Annotated[ConditionalSelectorN, Tag("conditional_selector")],
    Discriminator(_bt_node_kind),
    Field(
        description="A behavior-tree node: a mapping with exactly one of "
        + ", ".join(BT_NODE_KINDS)
    ),
]


class BtWorkflow(_WorkflowBase):
    planner: Literal["bt"] = Field(description="fsm (the default) | bt | llm")
    root: BtNode


class LlmPlanner(Model):
    agent: Name
    prompt: Str | None = None
    temperature: Number = Field(0.0, ge=0, le=2)
    max_steps: Int = Field(alias="maxSteps", ge=1)
    allowed_decisions: tuple[Str, ...] = Field(alias="allowedDecisions")
    output_schema: JsonObject | None = Field(None, alias="outputSchema")
    fallback: Name | None = Field(None, description="An FSM workflow to run when planning fails.")


class LlmWorkflow(_WorkflowBase):
    planner: Literal["llm"] = Field(description="fsm (the default) | bt | llm")
    llm: LlmPlanner


def _planner(value: Any) -> str | None:
    if isinstance(value, dict):
        planner = value.get("planner", "fsm")
        return planner if isinstance(planner, str) else None
    return getattr(value, "planner", None)


WorkflowSpec = Annotated[
    Annotated[FsmWorkflow, Tag("fsm")]
    | Annotated[BtWorkflow, Tag("bt")]
    | Annotated[LlmWorkflow, Tag("llm")],
    Discriminator(_planner),
]


for _model in (
    Parallel,
    Guarded,
    SequenceN,
    SelectorN,
    ParallelN,
    ConditionN,
    ActionN,
    ConditionalSelectorN,
    BtWorkflow,
):
    _model.model_rebuild()
