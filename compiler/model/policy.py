"""The Policy kind: RBAC roles, limits, sandbox defaults and CEL rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.compiler.model.base import (
    Cel,
    Duration,
    Int,
    Model,
    Name,
    Permissions,
    Quantity,
    Str,
)

# --- Policy --------------------------------------------------------------------------------


class Role(Model):
    allowed_tools: tuple[Name, ...] = Field((), alias="allowedTools")
    permissions: Permissions = Field(default_factory=dict)


class Limits(Model):
    max_tool_timeout: Duration | None = Field(None, alias="maxToolTimeout")
    max_memory: Quantity | None = Field(None, alias="maxMemory")
    max_retries: Int | None = Field(None, alias="maxRetries", ge=0)
    over_budget: Literal["error", "warning"] | None = Field(
        None,
        alias="overBudget",
        description="Severity of AF612, a worst-case run cost above an agent's budget "
        "(default warning; the strictest policy wins).",
    )


class SandboxPolicy(Model):
    default: Literal["gvisor", "docker", "process"] = "gvisor"
    allow_process_in: tuple[Name, ...] = Field((), alias="allowProcessIn")


KindName = Literal[
    "Project", "Agent", "Tool", "Workflow", "Policy", "Template", "TemplateInstance", "Scenario"
]


class RuleMatch(Model):
    kinds: tuple[KindName, ...] = ()
    names: tuple[Name, ...] = ()
    labels: dict[Str, Str] = Field(default_factory=dict)


class Rule(Model):
    name: Name
    match: RuleMatch = Field(default_factory=RuleMatch)
    expr: Cel = Field(description="CEL over the resource: spec, metadata, kind.")
    message: Str
    severity: Literal["error", "warning"] = "error"


class PolicySpec(Model):
    description: Str = ""
    roles: dict[Name, Role] = Field(default_factory=dict)
    limits: Limits | None = None
    sandbox: SandboxPolicy | None = None
    rules: tuple[Rule, ...] = ()
