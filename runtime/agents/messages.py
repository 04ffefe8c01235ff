"""What an agent step says to its model, and how the model's answer is judged.

Input: a `RunStep` (its binding, prompt, input, output schema; a planner turn's decisions) and
the agent's ToolSpecs. Output: the opening messages (a system message saying what the step is,
which tools it may call and what the answer must be; a user message with the rendered prompt,
or the step input as JSON), the tools as functions, ``tool`` messages answering tool calls, and
the verdict on a final answer: JSON matching the output schema, or the reason it is not.
Pure functions of their inputs (trace span ids aside).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import jsonschema

from agentflow.bundle.tool import ToolSpec
from agentflow.runtime.agents.base import ChatAnswer, FunctionCall, FunctionSpec, Message
from agentflow.runtime.engine.run import RunStep
from agentflow.runtime.ids import span_id
from agentflow.runtime.tools.base import Json

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})")
_SHOWN = 200
"""How much of a bad answer a failure message quotes."""


def opening_messages(step: RunStep, schema: Json) -> tuple[Message, ...]:
    """The system message (what the step is and must answer) and the user message."""
    agent = step.binding.agent
    lines = [f"You are the agent {agent}, running step {step.key} of workflow {step.plan}."]
    if step.planning is not None:
        lines.append(
            f'You plan workflow {step.plan}: decide its next move. Your answer\'s "decision" '
            f"must be one of: {', '.join(step.planning)}."
        )
    if step.binding.tools:
        lines.append(f"You may call these tools: {', '.join(step.binding.tools)}.")
    if schema is not None:
        shape = json.dumps(schema, sort_keys=True, ensure_ascii=False)
        lines.append(
            f"Answer with one JSON value matching this JSON Schema, and nothing else: {shape}"
        )
    else:
        lines.append("Answer with one JSON value, and nothing else.")
    if step.prompt is not None:
        user = step.prompt
    else:
        user = json.dumps(step.input, sort_keys=True, ensure_ascii=False)
    return (
        Message(role="system", content="\n".join(lines)),
        Message(role="user", content=user),
    )


def functions_for(
    names: tuple[str, ...], tool: Callable[[str], ToolSpec]
) -> tuple[FunctionSpec, ...]:
    """The tools ``names`` as functions: the tool's name, and its inputSchema as parameters."""
    return tuple(_function(tool(name)) for name in names)


def tool_message(
    call: FunctionCall, *, output: Json = None, error: tuple[str, str] | None = None
) -> Message:
    """The ``tool`` message answering ``call``: the tool's output, or ``{"error": ...}``."""
    body = {"error": {"kind": error[0], "message": error[1]}} if error is not None else output
    return Message(role="tool", content=json.dumps(body, ensure_ascii=False), tool_call_id=call.id)


def check_answer(answer: ChatAnswer, schema: Json) -> tuple[str | None, Json]:
    """``(None, output)`` for an answer that is JSON matching ``schema`` (None: any JSON),
    else ``(why not, None)``."""
    content = answer.message.content
    cut = " (the answer was cut off at max_tokens)" if answer.finish_reason == "length" else ""
    if content is None or not content.strip():
        return f"the model answered nothing (finish reason {answer.finish_reason})", None
    try:
        output = json.loads(content)
    except ValueError as error:
        return f"the model's answer is not JSON ({error}){cut}: {_quote(content)}", None
    if schema is None:
        return None, output
    try:
        validator_type = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft202012Validator
        )
        validator_type.check_schema(schema)
    except jsonschema.SchemaError as error:
        return f"the step's output schema is not a JSON Schema: {error.message}", None
    errors = sorted(validator_type(schema).iter_errors(output), key=lambda e: list(e.path))
    if errors:
        found = "; ".join(
            f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:3]
        )
        return f"the model's answer does not match the step's output schema: {found}{cut}", None
    return None, output


def schema_name(key: str) -> str:
    """A name for the output schema as ``response_format`` allows: ``[A-Za-z0-9_-]{1,64}``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", key)[:64] or "output"


def child_traceparent(traceparent: str) -> str:
    """A ``traceparent`` for one call of the step: the same trace, a span of its own."""
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None:
        return traceparent
    version, trace, flags = match.groups()
    return f"{version}-{trace}-{span_id()}-{flags}"


def _function(tool: ToolSpec) -> FunctionSpec:
    parameters = json.loads(tool.input_schema) if tool.input_schema is not None else None
    return FunctionSpec(
        name=tool.name,
        description=f"The tool {tool.name} (version {tool.version}).",
        parameters=parameters if parameters is not None else {"type": "object"},
    )


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
