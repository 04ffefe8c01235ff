"""The Workflow kind, one model per planner: FSM states, behavior-tree nodes, the LLM planner.

Behavior-tree nodes are a tagged union on the node's one key (`BT_NODE_KINDS`); workflows are a
tagged union on ``planner`` (``fsm`` when absent).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

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


class State(Model):
    agent: Name = Field(description="The Agent that runs this step.")
    tool: Name | None = Field(
        None, description="A Tool the agent calls; the step's output is typed by its outputSchema."
    )
    description: Str = ""
    prompt: Str | None = Field(
        None, description="For llm agents; may use {{ input.x }}, {{ output.x }}, {{ state.x }}."
    )
    input: JsonObject | None = Field(
        None, description="The step's input; string values may use {{ input.x }} and the like."
    )
    output: JsonSchemaRef | None = Field(None, description="The schema of the step's output.")
    transitions: tuple[Transition, ...] | None = Field(
        None, description="First match wins. Use either transitions or on_success."
    )
    on_success: StateName | None = Field(None, description="The next state after success.")
    on_error: StateName | None = Field(None, description="The next state after a failure.")
    timeout: Duration | None = None
    retry: Retry | None = None


class _WorkflowBase(Model):
    description: Str = ""
    timeout: Duration | None = None
    input: JsonSchemaRef | None = None


class FsmWorkflow(_WorkflowBase):
    planner: Literal["fsm"] = Field("fsm", description="fsm (the default) | bt | llm")
    initial_state: StateName = Field(description="The state a run starts in.")
    final_states: tuple[StateName, ...] = Field(description="The states a run ends in.")
    states: dict[StateName, State] = Field(description="Each state: one step, by name.")


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
