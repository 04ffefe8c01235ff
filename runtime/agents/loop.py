"""The agent step loop: one step of an ``llm`` agent, whose model may call the agent's tools.

Input: a `RunStep` for the agent's own work (its binding, rendered prompt, input, output schema;
for an LLM planner's turn also the allowed decisions, ``maxSteps`` and temperature), the
idempotency key and ``traceparent`` of the step attempt, and `AgentServices`: the bundle's
ExecProfiles and ToolSpecs, a `ModelClient`, a `ToolCaller` and a `Budget`.
Output: `AgentOutcome` (the answer as JSON, token and dollar usage, every tool call made), or
`AgentStepError`, which carries the same usage and calls so the audit trail loses none.

Guarantees:
- At most ``max_rounds`` model calls (a planner turn: its ``maxSteps``); the step fails when the
  model is still calling tools after the last one.
- Before every model call the budget is asked to reserve the call's worst case (its
  ``max_tokens`` and an estimate of the prompt); over budget, the step fails before a request
  is sent. What was used is spent after each call, so a budget is never overrun silently.
- Each tool call runs under its own (agent, tool) ExecProfile, with the idempotency key
  ``<key>:<n>`` for the n-th call of the step and a child span of the step's trace; its result
  (or its error's text) goes back to the model as a ``tool`` message.
- The step's own timeout, when it has one, bounds the whole loop (and each tool call's).
- The final answer must be JSON and match the step's output schema; anything else fails the
  step with a message that says why. Deciding what a failure means (retry, fallback) is the
  engine's business.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Never

import anyio

from agentflow.bundle.profile import ExecProfile, profile_id
from agentflow.bundle.tool import ToolSpec
from agentflow.runtime.agents.base import (
    ChatAnswer,
    ChatRequest,
    FunctionCall,
    Message,
    ModelClient,
    ModelError,
)
from agentflow.runtime.agents.budget import Budget, BudgetExceeded, Usage, reservation
from agentflow.runtime.agents.messages import (
    check_answer,
    child_traceparent,
    functions_for,
    opening_messages,
    schema_name,
    tool_message,
)
from agentflow.runtime.audit import digest_of
from agentflow.runtime.engine.run import RunStep
from agentflow.runtime.tools.base import Json, ToolCall, ToolCaller, ToolError

DEFAULT_MAX_ROUNDS = 8
"""Model calls one step may make when its plan sets no bound (a planner sets ``maxSteps``)."""

UNREACHED = frozenset({"refused", "invalid-input", "circuit-open", "secret"})
"""Tool failures that happen before the tool is reached: such a call costs nothing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallRecord:
    """One tool call as the audit trail holds it: hashes, never values."""

    tool: str
    idempotency_key: str
    input_hash: str
    output_hash: str | None
    """None when the call gave no output."""
    duration_ms: int
    outcome: str
    """``ok``, or the `ToolError` kind."""

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "idempotencyKey": self.idempotency_key,
            "inputHash": self.input_hash,
            "outputHash": self.output_hash,
            "durationMs": self.duration_ms,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentOutcome:
    output: Json
    usage: Usage
    calls: tuple[ToolCallRecord, ...]


class AgentStepError(Exception):
    """A step that gave no output; says whether another attempt could help, and what was used."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        usage: Usage,
        calls: tuple[ToolCallRecord, ...],
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.usage = usage
        self.calls = calls


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentServices:
    """What an agent step uses: the bundle's profiles and tools, and the callers."""

    profiles: Mapping[str, ExecProfile]
    """By id (`profile_id`): the agent's own, and one per (agent, tool) pair."""
    tools: Mapping[str, ToolSpec]
    """By tool name."""
    model: ModelClient
    caller: ToolCaller
    budget: Budget
    clock: Callable[[], float] = time.monotonic


async def run_agent_step(
    step: RunStep,
    services: AgentServices,
    *,
    key: str,
    traceparent: str,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> AgentOutcome:
    """Run ``step`` (an llm agent's own work) to its JSON output; raises `AgentStepError`.

    ``key`` is the attempt's idempotency key (``<run>:<step>:<attempt>``); ``step.max_rounds``
    (a planner's ``maxSteps``), when set, replaces ``max_rounds``. The step's own timeout,
    when it has one, bounds the whole loop; each call is also held to its own profile's.
    """
    run = _Run(step=step, services=services, key=key, traceparent=traceparent)
    rounds = max_rounds if step.max_rounds is None else step.max_rounds
    if step.timeout_ms is None:
        return await run.until_answer(rounds)
    with anyio.move_on_after(step.timeout_ms / 1000):
        return await run.until_answer(rounds)
    run.fail(f"step {step.key} ran past its timeout of {step.timeout_ms} ms")


@dataclass(slots=True, kw_only=True)
class _Run:
    """One step's progress: what it has used and called so far (local to one call)."""

    step: RunStep
    services: AgentServices
    key: str
    traceparent: str
    usage: Usage = Usage()
    calls: tuple[ToolCallRecord, ...] = ()

    async def until_answer(self, rounds: int) -> AgentOutcome:
        step, agent = self.step, self.step.binding.agent
        if step.refused is not None:
            self.fail(step.refused, retryable=False)
        if step.binding.tool is not None:
            self.fail(f"step {step.key} calls tool {step.binding.tool}: not an agent's own work")
        profile = self._profile(profile_id(agent, None))
        model = profile.model
        if model is None:
            self.fail(f"agent {agent} has no model", retryable=False)
        schema = self._schema()
        messages = opening_messages(step, schema)
        functions = functions_for(step.binding.tools, self._tool)
        for round_ in range(1, rounds + 1):
            request = ChatRequest(
                messages=messages,
                temperature=model.temperature if step.temperature is None else step.temperature,
                max_tokens=model.max_tokens,
                response_schema=schema,
                functions=functions,
                schema_name=schema_name(step.key),
            )
            answer = await self._ask(profile, request, round_)
            if not answer.message.tool_calls:
                problem, output = check_answer(answer, schema)
                if problem is not None:
                    self.fail(problem)
                return AgentOutcome(output=output, usage=self.usage, calls=self.calls)
            results = [await self._use(call) for call in answer.message.tool_calls]
            messages = (*messages, answer.message, *results)
        self.fail(f"the model was still calling tools after {rounds} model calls, the most allowed")

    async def _ask(self, profile: ExecProfile, request: ChatRequest, round_: int) -> ChatAnswer:
        agent, budget = self.step.binding.agent, self.services.budget
        try:
            budget.reserve(agent, reservation(request))
        except BudgetExceeded as error:
            self.fail(f"agent {agent} is over budget: {error}", retryable=False)
        try:
            answer = await self.services.model.complete(
                profile,
                request,
                traceparent=child_traceparent(self.traceparent),
                idempotency_key=f"{self.key}:model:{round_}",
            )
        except ModelError as error:
            budget.spend(agent, 0, 0.0)
            self.fail(f"model call {round_} failed: {error}", retryable=error.retryable)
        tokens = answer.prompt_tokens + answer.completion_tokens
        budget.spend(agent, tokens, 0.0)
        self.usage = self.usage.add(
            prompt=answer.prompt_tokens, completion=answer.completion_tokens, model_calls=1
        )
        return answer

    async def _use(self, call: FunctionCall) -> Message:
        """Run one tool call the model asked for; the ``tool`` message that answers it."""
        name, agent = call.name, self.step.binding.agent
        if name not in self.step.binding.tools:
            offered = ", ".join(self.step.binding.tools) or "none"
            return tool_message(call, error=("unknown-tool", f"no tool {name}; offered: {offered}"))
        try:
            arguments = json.loads(call.arguments)
        except ValueError:
            return tool_message(call, error=("invalid-input", "the arguments are not JSON"))
        profile = self._profile(profile_id(agent, name))
        n = len(self.calls) + 1
        timeout = profile.timeout_ms
        if self.step.timeout_ms is not None:
            timeout = min(timeout, self.step.timeout_ms)
        request = ToolCall(
            tool=self._tool(name),
            profile=profile,
            input=arguments,
            idempotency_key=f"{self.key}:{n}",
            traceparent=child_traceparent(self.traceparent),
            timeout_ms=timeout,
        )
        started = self.services.clock()
        output: Json = None
        failure: ToolError | None = None
        try:
            output = await self.services.caller.call(request)
        except ToolError as error:
            failure = error
        duration = round((self.services.clock() - started) * 1000)
        outcome = "ok" if failure is None else failure.kind
        cost = (profile.cost_per_call or 0.0) if outcome not in UNREACHED else 0.0
        if cost:
            self.services.budget.spend(agent, 0, cost)
            self.usage = self.usage.add(dollars=cost)
        record = ToolCallRecord(
            tool=name,
            idempotency_key=request.idempotency_key,
            input_hash=_digest(arguments),
            output_hash=_digest(output) if failure is None else None,
            duration_ms=duration,
            outcome=outcome,
        )
        self.calls = (*self.calls, record)
        if failure is not None:
            return tool_message(call, error=(failure.kind, str(failure)))
        return tool_message(call, output=output)

    def _schema(self) -> Json:
        text = self.step.output_schema
        return None if text is None else json.loads(text)

    def _profile(self, id: str) -> ExecProfile:
        profile = self.services.profiles.get(id)
        if profile is None:
            self.fail(f"the bundle holds no ExecProfile {id}", retryable=False)
        return profile

    def _tool(self, name: str) -> ToolSpec:
        spec = self.services.tools.get(name)
        if spec is None:
            self.fail(f"the bundle holds no tool {name}", retryable=False)
        return spec

    def fail(self, message: str, *, retryable: bool = True) -> Never:
        raise AgentStepError(message, retryable=retryable, usage=self.usage, calls=self.calls)


def _digest(value: Json) -> str:
    try:
        return digest_of(value)
    except ValueError:  # NaN and the like, which Python's JSON parser lets through
        return digest_of(repr(value))
