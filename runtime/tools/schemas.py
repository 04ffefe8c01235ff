"""A tool's input and output, checked against the JSON Schemas its bundle file holds.

Input: the schema's canonical JSON text (``inputSchema`` / ``outputSchema`` of `ToolSpec`) and
a JSON value. Output: nothing when the value matches; else ``ToolError("invalid-input")``
(not retryable: the same input fails again, and nothing was called) or
``ToolError("invalid-output")``, whose message gives the most relevant jsonschema error's path
(``$.items[0]``) and message. The dialect is the schema's ``$schema`` (Draft 2020-12 when it
names none); ``format`` is not asserted. jsonschema's messages quote the value, so they go
through ``redact`` (a `Redactor`'s) before they are cut to `MAX_DETAIL` characters: cutting
first could leave half a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jsonschema import exceptions, validators

from agentflow.bundle.plan import JsonText
from agentflow.runtime.tools.base import ToolCall, ToolError

MAX_DETAIL = 300


Redact = Callable[[str], str]


def check_input(call: ToolCall, *, redact: Redact = str) -> None:
    """Raise ``ToolError("invalid-input")`` unless ``call.input`` matches ``inputSchema``."""
    problem = schema_problem(call.tool.input_schema, call.input, redact=redact)
    if problem is not None:
        raise ToolError(
            "invalid-input",
            f"input of tool {call.tool.name!r} does not match its inputSchema: {problem}",
            retryable=False,
        )


def check_output(call: ToolCall, output: Any, *, redact: Redact = str) -> None:
    """Raise ``ToolError("invalid-output")`` unless ``output`` matches ``outputSchema``."""
    problem = schema_problem(call.tool.output_schema, output, redact=redact)
    if problem is not None:
        raise ToolError(
            "invalid-output",
            f"tool {call.tool.name!r} answered output that does not match its outputSchema: "
            f"{problem}",
        )


def schema_problem(schema_text: JsonText | None, value: Any, *, redact: Redact = str) -> str | None:
    """``at $.query: 3 is not of type 'string'``, or None when ``value`` matches (or there is
    no schema)."""
    if schema_text is None:
        return None
    schema = json.loads(schema_text)
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as error:
        return _cut(redact(f"the schema itself is invalid ({_where(error)}): {error.message}"))
    best = exceptions.best_match(cls(schema).iter_errors(value))
    if best is None:
        return None
    return _cut(redact(f"at {best.json_path}: {best.message}"))


def _where(error: exceptions.SchemaError) -> str:
    return "at $" + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )


def _cut(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
