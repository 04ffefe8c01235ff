"""How to call a tool, as the bundle holds it (``tools/<name>.json``, SPEC §3).

The compiler writes one file per tool a plan can reach; the runtime reads it to make the call.
What a step may do with the tool (hosts, timeout, memory, retries) is its ExecProfile's business;
this file says only how the tool is reached: over HTTP (``POST endpoint``), as an MCP server's
tool over streamable HTTP, or as a Python entrypoint run in a child process. Header values are
written out or are secret references, never secret values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.plan import JsonText
from agentflow.bundle.secrets import Text, text_from_json, text_to_json

TOOL_FORMAT = "agentflow.tool/v1"
ToolType = Literal["http", "mcp", "python"]


class ToolFormatError(ValueError):
    """A tool file this reader cannot use: another format version, or the wrong shape."""


@dataclass(frozen=True, slots=True, kw_only=True)
class McpTarget:
    server: str
    """The MCP server's streamable-HTTP URL."""
    tool: str
    """The tool's name on that server (``tools/call``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSpec:
    name: str
    version: str
    type: ToolType
    endpoint: str | None
    """``http``: the URL the step input is POSTed to as JSON."""
    mcp: McpTarget | None
    """``mcp``: the server and the tool on it."""
    entrypoint: str | None
    """``python``: ``module:function``, run in a child process."""
    headers: tuple[tuple[str, Text], ...]
    """``http`` and ``mcp``: request headers by name, sorted; values may be secret references."""
    input_schema: JsonText | None
    """Checked against the step input before the call."""
    output_schema: JsonText | None
    """Checked against the answer after the call."""

    def to_json(self) -> dict[str, Any]:
        return {
            "formatVersion": TOOL_FORMAT,
            "name": self.name,
            "version": self.version,
            "type": self.type,
            "endpoint": self.endpoint,
            "mcp": None if self.mcp is None else {"server": self.mcp.server, "tool": self.mcp.tool},
            "entrypoint": self.entrypoint,
            "headers": {name: text_to_json(value) for name, value in self.headers},
            "inputSchema": _value(self.input_schema),
            "outputSchema": _value(self.output_schema),
        }


def tool_from_json(data: Any) -> ToolSpec:
    """The tool a ``tools/<name>.json`` describes; the inverse of `ToolSpec.to_json`."""
    if not isinstance(data, dict) or data.get("formatVersion") != TOOL_FORMAT:
        found = data.get("formatVersion") if isinstance(data, dict) else type(data).__name__
        raise ToolFormatError(f"not a tool of format {TOOL_FORMAT} (found {found!r})")
    try:
        kind = data["type"]
        if kind not in ("http", "mcp", "python"):
            raise ValueError(f"unknown tool type {kind!r}")
        mcp = data["mcp"]
        spec = ToolSpec(
            name=_str(data["name"]),
            version=_str(data["version"]),
            type=cast(ToolType, kind),
            endpoint=None if data["endpoint"] is None else _str(data["endpoint"]),
            mcp=None
            if mcp is None
            else McpTarget(server=_str(mcp["server"]), tool=_str(mcp["tool"])),
            entrypoint=None if data["entrypoint"] is None else _str(data["entrypoint"]),
            headers=tuple(
                (_str(name), text_from_json(value))
                for name, value in sorted(data["headers"].items())
            ),
            input_schema=_text(data["inputSchema"]),
            output_schema=_text(data["outputSchema"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ToolFormatError(f"tool {data.get('name')!r} is malformed: {error!r}") from None
    needed = {"http": spec.endpoint, "mcp": spec.mcp, "python": spec.entrypoint}[spec.type]
    if needed is None:
        raise ToolFormatError(f"tool {spec.name!r} of type {spec.type} says nowhere to call it")
    return spec


def _mcp(data: Any) -> McpTarget | None:
    return None if data is None else McpTarget(server=_str(data["server"]), tool=_str(data["tool"]))


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {value!r}")
    return value


def _value(text: JsonText | None) -> Any:
    return None if text is None else json.loads(text)


def _text(value: Any) -> JsonText | None:
    return None if value is None else canonical_json(value).decode("utf-8")
