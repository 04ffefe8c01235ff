"""Tools as the bundle holds them: how to call each tool a plan reaches.   AF802

Input: the `Index` and the tools the plans reach (`queries.reachable_pairs`). Output: one
`agentflow.bundle.tool.ToolSpec` per reached tool, by name, for ``tools/<name>.json``: its type,
endpoint, MCP server and tool, or entrypoint, its headers as written (a secret stays a
reference: the runtime resolves it at call time), and its input and output schemas as
canonical JSON. A schema JSON cannot carry (a NaN) is AF802 where it is written, and its tool
is left out. What a step may do with the tool is its ExecProfile's business (`profiles`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from agentflow.bundle.canonical import NotJsonError, canonical_json
from agentflow.bundle.plan import JsonText
from agentflow.bundle.secrets import SecretRef, Text
from agentflow.bundle.tool import McpTarget, ToolSpec
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model import base
from agentflow.compiler.model.tool import HttpTool, McpTool, PythonTool
from agentflow.compiler.model.tool import ToolSpec as ToolModel


class _NotJson(Exception):
    """A schema that cannot be written; reported already."""


def derive_tools(index: Index, reached: Iterable[str], report: Report) -> Mapping[str, ToolSpec]:
    """The ToolSpec of each reached tool that the index defines, by name."""
    tools: dict[str, ToolSpec] = {}
    for name in sorted(set(reached)):
        tool = index.get("Tool", name)
        if tool is None:
            continue  # AF302 says why
        try:
            tools[name] = tool_spec(tool, report)
        except _NotJson:
            continue
    return MappingProxyType(tools)


def tool_spec(tool: Resource[ToolModel], report: Report) -> ToolSpec:
    spec = tool.spec
    headers: tuple[tuple[str, Text], ...] = ()
    if isinstance(spec, HttpTool | McpTool):
        headers = tuple((name, _text(value)) for name, value in sorted(spec.headers.items()))
    return ToolSpec(
        name=tool.name,
        version=spec.version,
        type=spec.type,
        endpoint=spec.endpoint if isinstance(spec, HttpTool) else None,
        mcp=McpTarget(server=spec.mcp.server, tool=spec.mcp.tool)
        if isinstance(spec, McpTool)
        else None,
        entrypoint=spec.entrypoint if isinstance(spec, PythonTool) else None,
        headers=headers,
        input_schema=_json(tool, spec.input_schema, "inputSchema", report),
        output_schema=_json(tool, spec.output_schema, "outputSchema", report),
    )


def _text(value: str | base.SecretRef) -> Text:
    return value if isinstance(value, str) else SecretRef(value.secret_ref)


def _json(tool: Resource[ToolModel], value: Any, field: str, report: Report) -> JsonText | None:
    if value is None:
        return None
    try:
        return canonical_json(value).decode("utf-8")
    except NotJsonError as error:
        report.add(
            codes.NOT_JSON,
            tool.file,
            tool.doc.span(("spec", field)),
            f"this value cannot be written to the bundle: {error}",
            hint="a JSON number is a double: write an integer this large as a string",
        )
        raise _NotJson from None
