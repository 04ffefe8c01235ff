"""The Scenario kind: a workflow test kept in the repository (SPEC §1).

A scenario names a workflow, gives its input, stubs agents and tools with answers in call
order, gives approval decisions, and says how the run must end. Its shape is checked here; what
it means against the workflow (names, schemas, the path) is checked by `check.scenarios`
(AF9xx), which also reads the three places this model leaves open on purpose: an answer's
``output`` versus ``error`` (AF904), an approval decision's fields (AF908) and the expected
status (AF909), so that each mistake is named in the user's terms. The published schema leaves
them open too (it agrees with the models); their descriptions say what is allowed.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agentflow.bundle.scenario import EXPECTABLE
from agentflow.compiler.model.base import JsonObject, Model, Name, StateName, Str


class StubAnswer(Model):
    output: Any = Field(
        None,
        description="The step succeeds with this output; it must match the output schema of "
        "every step the stub answers.",
    )
    error: Str | None = Field(
        None, description="The step fails with this error (and is retried like any failure)."
    )


class Expect(Model):
    status: Str = Field(
        description=" | ".join(EXPECTABLE) + ": how the run ends (waiting: at an approval)."
    )
    path: tuple[Str, ...] | None = Field(
        None,
        description="The steps the run takes, as af run prints them: FSM states (a retried "
        "state repeats), behavior-tree actions as agent or agent/tool, an LLM planner's agent "
        "then the fallback's states. Unset: not checked.",
    )


class ScenarioSpec(Model):
    description: Str = ""
    workflow: Name = Field(description="The Workflow this scenario runs.")
    input: Any = Field(None, description="The run's input; checked against input.schema.")
    stubs: dict[Name, tuple[StubAnswer, ...]] = Field(
        default_factory=dict,
        description="By agent or tool name: answers in call order, the last repeats. A step "
        "with a tool is answered by that tool's stub when there is one, else by its agent's.",
    )
    approvals: dict[StateName, JsonObject] = Field(
        default_factory=dict,
        description="Approval state → the decision {approved: bool, approver: string, "
        "comment: string}.",
    )
    expect: Expect
