"""The source format as typed, frozen models: one class per kind of SPEC §1.

These models are the single source of truth for the resource schema: `load.schema` validates
documents with them and `schemas/*.schema.json` are generated from them (`python -m
agentflow.compiler.model.export`). Scalars are strict (YAML's ``"1"`` is not a number and
``yes`` is not a boolean); sequences become tuples. Field descriptions are what editors show.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.compiler.model.agent import AgentSpec
from agentflow.compiler.model.base import Metadata, Model
from agentflow.compiler.model.policy import PolicySpec
from agentflow.compiler.model.project import ProjectSpec
from agentflow.compiler.model.scenario import ScenarioSpec
from agentflow.compiler.model.template import TemplateInstanceSpec, TemplateSpec
from agentflow.compiler.model.tool import ToolSpec
from agentflow.compiler.model.workflow import WorkflowSpec

# --- resources -----------------------------------------------------------------------------

API_VERSION = "agentflow.dev/v1"


class _Resource(Model):
    api_version: Literal["agentflow.dev/v1"] = Field(
        alias="apiVersion", description="Always agentflow.dev/v1."
    )
    metadata: Metadata = Field(description="The resource's name, labels and annotations.")


class Project(_Resource):
    """The repository's root (af.yaml): version, compatible compilers, environments."""

    kind: Literal["Project"]
    spec: ProjectSpec


class Tool(_Resource):
    """Something agents call (HTTP, MCP or Python), with the permissions it needs."""

    kind: Literal["Tool"]
    spec: ToolSpec


class Agent(_Resource):
    """A worker that workflow steps run on: an LLM, an HTTP service or a tool caller."""

    kind: Literal["Agent"]
    spec: AgentSpec


class Workflow(_Resource):
    """Agents chained by a planner: an FSM (the default), a behavior tree (bt) or an LLM."""

    kind: Literal["Workflow"]
    spec: WorkflowSpec


class Policy(_Resource):
    """RBAC roles, limits, sandbox defaults and CEL rules that resources must satisfy."""

    kind: Literal["Policy"]
    spec: PolicySpec


class Template(_Resource):
    """A versioned Jinja template of workflows (templates/<name>/<version>/template.yaml)."""

    kind: Literal["Template"]
    spec: TemplateSpec


class TemplateInstance(_Resource):
    """A workflow rendered at compile time from a Template and parameters."""

    kind: Literal["TemplateInstance"]
    spec: TemplateInstanceSpec


class Scenario(_Resource):
    """A workflow test: input, stubbed agents and tools, approvals, the expected end (af test)."""

    kind: Literal["Scenario"]
    spec: ScenarioSpec


ResourceModel = Project | Tool | Agent | Workflow | Policy | Template | TemplateInstance | Scenario
KIND_MODELS: dict[str, type[ResourceModel]] = {
    "Project": Project,
    "Agent": Agent,
    "Tool": Tool,
    "Workflow": Workflow,
    "Policy": Policy,
    "Template": Template,
    "TemplateInstance": TemplateInstance,
    "Scenario": Scenario,
}
