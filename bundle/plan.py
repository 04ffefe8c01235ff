"""The compiled plan: a workflow as the runtime executes it, as typed, frozen data.

A plan is independent of how its YAML is written: key order, comments, descriptions, labels and
the file's location leave no trace; FSM states are sorted by name, a state's ``on_success`` is
its one unconditional transition, and defaults are filled in. Conditions carry their source and
the checked form the runtime loads without re-parsing. JSON values a user wrote (schemas, step
inputs) are held as canonical JSON text (RFC 8785), so a plan stays immutable and hashable.
`agentflow.compiler.plan.compile` builds plans from validated resources; `plan_json` writes
them for the bundle and reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

JsonText = str
"""A JSON value as canonical (RFC 8785) text."""

PLANNER_VERSIONS = {"fsm": 1, "bt": 1, "llm": 1}

MAX_TREE_DEPTH = 256
"""How deep any walk over a behavior tree goes, in the source or in a plan. The loader's
nesting limit keeps real trees far shallower; this bound only guards recursion against a tree
no loader produced."""
"""Bumped when a planner's execution semantics change: part of every plan-cache key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    """Who runs a step and with which ExecProfile(s)."""

    agent: str
    tool: str | None
    """The tool the step calls, or None for the agent's own work (its model calls)."""
    profile: str
    """``profile.profile_id(agent, tool)``: the ExecProfile the step runs under."""
    tools: tuple[str, ...]
    """Every tool the step may reach, sorted: ``(tool,)``, or without a tool every tool the
    agent lists (an LLM agent may call any of them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """A compiled CEL condition."""

    source: str
    """The expression as written."""
    checked: bytes
    """The serialized, type-checked ``cel.expr.CheckedExpr`` (conditions.CompiledCondition)."""
    result_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPlan:
    """A retry policy with every default filled in; one attempt when none is declared."""

    max_attempts: int
    backoff: Literal["exponential", "linear", "constant"]
    initial_delay_ms: int
    max_delay_ms: int | None
    jitter: bool


NO_RETRY = RetryPlan(
    max_attempts=1, backoff="exponential", initial_delay_ms=0, max_delay_ms=None, jitter=False
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One unit of work: an FSM state's step or a behavior-tree action."""

    binding: Binding
    prompt: str | None
    input: JsonText | None
    output_schema: JsonText | None
    """The step's ``output.schema``, else its tool's ``outputSchema``."""
    timeout_ms: int | None
    """The step's own timeout; None: its ExecProfile's timeout applies."""
    retry: RetryPlan
    """The step's retry, else its agent's, else `NO_RETRY`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    target: str
    condition: Condition | None
    """None: the default (unconditional) transition."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalPlan:
    """A state that waits for a person instead of running a step (SPEC §1)."""

    role: str
    """Only a caller holding this role may decide."""
    timeout_ms: int | None
    """How long the run waits; past it, the state fails (its ``on_error`` is taken)."""
    prompt: str | None
    """What the person is asked; it may interpolate ``{{ output.x }}`` and the like."""


APPROVAL_OUTPUT_SCHEMA: JsonText = (
    '{"additionalProperties":false,"properties":{"approved":{"type":"boolean"},'
    '"approver":{"type":"string"},"comment":{"type":"string"}},'
    '"required":["approved","approver","comment"],"type":"object"}'
)
"""An approval state's output, fixed: ``{approved, approver, comment}`` (canonical JSON)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatePlan:
    name: str
    step: Step | None
    """What the state runs; None for an approval state."""
    approval: ApprovalPlan | None = None
    """Set for an approval state, which runs no step."""
    transitions: tuple[Transition, ...]
    """After success, in order, first match wins; ``on_success: X`` is ``(default → X,)``."""
    on_error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _PlanBase:
    name: str
    """The workflow's name."""
    timeout_ms: int | None
    input_schema: JsonText | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FsmPlan(_PlanBase):
    planner: Literal["fsm"] = "fsm"
    initial: str
    finals: tuple[str, ...]
    """Sorted, without repeats."""
    states: tuple[StatePlan, ...]
    """Sorted by name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionNode:
    step: Step


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionNode:
    condition: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class SequenceNode:
    children: tuple[BtPlanNode, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectorNode:
    children: tuple[BtPlanNode, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelNode:
    policy: Literal["all_success", "one_success"]
    children: tuple[BtPlanNode, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    when: Condition | None
    """None: the default branch."""
    do: BtPlanNode


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionalSelectorNode:
    branches: tuple[Branch, ...]


BtPlanNode = (
    ActionNode
    | ConditionNode
    | SequenceNode
    | SelectorNode
    | ParallelNode
    | ConditionalSelectorNode
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BtPlan(_PlanBase):
    planner: Literal["bt"] = "bt"
    root: BtPlanNode


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmPlan(_PlanBase):
    planner: Literal["llm"] = "llm"
    binding: Binding
    """The planner agent."""
    prompt: str | None
    temperature: float
    max_steps: int
    allowed_decisions: tuple[str, ...]
    """As written: the order may reach the planner's prompt."""
    output_schema: JsonText | None
    fallback: str | None
    """The name of the FSM workflow (its plan) to run when planning fails."""


Plan = FsmPlan | BtPlan | LlmPlan
