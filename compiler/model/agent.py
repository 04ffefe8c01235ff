"""The Agent kind: who runs a step (model, role, tools, budget, residency, retry)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.compiler.model.base import Bool, Int, Model, Name, Number, Retry, Str, Url

# --- Agent ---------------------------------------------------------------------------------


class ModelRef(Model):
    provider: Str
    name: Str
    temperature: Number = Field(0.0, ge=0, le=2)
    max_tokens: Int | None = Field(None, alias="maxTokens", ge=1)


class Budget(Model):
    tokens: Int | None = Field(None, ge=0)
    dollars: Number | None = Field(None, ge=0)
    period: Literal["hour", "day", "week", "month"] = "day"


class Residency(Model):
    region: Str
    strict: Bool = False


class AgentSpec(Model):
    type: Literal["llm", "http", "tool"] = Field(description="llm | http | tool")
    description: Str = ""
    role: Name | None = Field(None, description="An RBAC role defined by some Policy.")
    model: ModelRef | None = Field(None, description="Required for llm agents.")
    endpoint: Url | None = Field(None, description="Required for http agents.")
    tools: tuple[Name, ...] = Field((), description="The Tools this agent may call.")
    concurrency: Int = Field(1, ge=1, description="Runs at the same time, at most.")
    budget: Budget | None = None
    residency: Residency | None = None
    retry: Retry | None = None
