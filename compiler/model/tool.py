"""The Tool kind: an HTTP endpoint, an MCP server's tool or a Python callable, and what it needs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from agentflow.compiler.model.base import (
    ENTRYPOINT_PATTERN,
    Duration,
    Int,
    JsonObject,
    Model,
    Number,
    Permissions,
    Resources,
    SemVer,
    Str,
    Text,
    Url,
    matcher,
)

# --- Tool ----------------------------------------------------------------------------------


class McpRef(Model):
    server: Url = Field(
        description="The MCP server's streamable-HTTP URL; network permission derives from its "
        "host. Loopback hosts (http://127.0.0.1:8080/mcp) are valid for development."
    )
    tool: Str


class Cost(Model):
    per_call: Number = Field(alias="perCall", ge=0)


class CircuitBreaker(Model):
    failure_threshold: Int = Field(
        5, alias="failureThreshold", ge=1, description="Failures in a row that open the circuit."
    )
    reset_after: Duration = Field(
        "30s", alias="resetAfter", description="How long the circuit stays open."
    )


class _ToolBase(Model):
    version: SemVer
    description: Str = ""
    input_schema: JsonObject | None = Field(
        None, alias="inputSchema", description="A JSON Schema of the tool's input."
    )
    output_schema: JsonObject | None = Field(
        None,
        alias="outputSchema",
        description="A JSON Schema of the tool's output; it types `output` in CEL conditions.",
    )
    permissions: Permissions = Field(default_factory=dict)
    timeout: Duration | None = Field(None, description="Timeout of one call.")
    resources: Resources | None = None
    cost: Cost | None = None
    circuit_breaker: CircuitBreaker | None = Field(
        None,
        alias="circuitBreaker",
        description="When to stop calling a failing tool; defaults to 5 failures, 30s.",
    )


Headers = Annotated[
    dict[Str, Text],
    Field(
        description="Request headers by name: a string, or a secret by reference "
        "({secretRef: NAME}). A credential (Authorization, an API key, a token) must be a "
        "reference: written out, it is AF613.",
    ),
]


class HttpTool(_ToolBase):
    type: Literal["http"] = Field(description="http | mcp | python")
    endpoint: Url = Field(
        description="The URL the step input is POSTed to as JSON. Loopback hosts "
        "(http://127.0.0.1:8080/search) are valid for development."
    )
    headers: Headers = Field(default_factory=dict)


class McpTool(_ToolBase):
    type: Literal["mcp"] = Field(description="http | mcp | python")
    mcp: McpRef = Field(description="The MCP server and the tool on it.")
    headers: Headers = Field(default_factory=dict)


class PythonTool(_ToolBase):
    type: Literal["python"] = Field(description="http | mcp | python")
    entrypoint: Annotated[
        str,
        Strict(),
        Field(
            description="The Python callable to run, module:function.",
            json_schema_extra={"pattern": ENTRYPOINT_PATTERN},
        ),
        matcher("af_entrypoint", ENTRYPOINT_PATTERN, "entrypoint", "mypkg.tools:search"),
    ]


ToolSpec = Annotated[HttpTool | McpTool | PythonTool, Field(discriminator="type")]
