"""Steps run for real: tools over HTTP, MCP or a child process, models over the
OpenAI-compatible API, each call held to the step's ExecProfile.

`LiveSteps` is the `StepRunner` of every run that no scenario answers. A step with a tool calls
it through `ToolCallers` (breaker, input schema, egress before the socket, the call, output
schema) under the step's (agent, tool) profile; an ``llm`` agent's own step goes through the
agent loop (`agents.loop`), whose model may call the agent's tools, each under its own profile,
within the agent's budget. Secrets are resolved at call time and masked in every error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from agentflow.bundle.profile import ExecProfile
from agentflow.runtime.agents.base import ModelClient
from agentflow.runtime.agents.loop import (
    AgentServices,
    AgentStepError,
    ToolCallRecord,
    run_agent_step,
)
from agentflow.runtime.agents.openai import OpenAIClient
from agentflow.runtime.audit import digest_of
from agentflow.runtime.budgets import StoreBudget
from agentflow.runtime.clock import Clock
from agentflow.runtime.engine.run import RunStep
from agentflow.runtime.ids import span_id, traceparent
from agentflow.runtime.secrets import EnvSecrets, RedactingSecrets, Redactor, Secrets
from agentflow.runtime.steps import CallRecord, StepContext, StepOutcome, checked
from agentflow.runtime.store.sql import SqlStore
from agentflow.runtime.tools.base import ToolCall, ToolCaller, ToolError
from agentflow.runtime.tools.callers import ToolCallers
from agentflow.runtime.tools.egress import require_egress
from agentflow.runtime.tools.mcp import McpCaller


class _Egress:
    """The host policy the MCP caller asks before connecting."""

    def check(self, url: str, profile: ExecProfile) -> None:
        require_egress(url, profile)


@dataclass
class LiveSteps:
    tools: ToolCaller
    model: ModelClient
    redactor: Redactor
    store: SqlStore
    """Where agent budgets are kept (``usage``)."""
    clock: Clock

    async def run(self, context: StepContext, step: RunStep) -> StepOutcome:
        if step.refused is not None:
            return StepOutcome(ok=False, error=step.refused, retryable=False)
        key = f"{context.run_id}:{step.seq}:{step.attempt}"
        parent = traceparent(context.trace_id, span_id())
        bundle = context.bundle
        binding = step.binding
        profile = bundle.profiles.get(binding.profile)
        if profile is None:
            return _refused(f"the bundle holds no ExecProfile '{binding.profile}'")
        if binding.tool is not None:
            spec = bundle.tools.get(binding.tool)
            if spec is None:
                return _refused(
                    f"the bundle holds no tools/{binding.tool}.json (built by an older af?)"
                )
            timeout = min(step.timeout_ms or profile.timeout_ms, profile.timeout_ms)
            call = ToolCall(
                tool=spec,
                profile=profile,
                input=step.input,
                idempotency_key=key,
                traceparent=parent,
                timeout_ms=timeout,
            )
            return checked(step, await self._tool(call))
        if profile.model is None:
            return _refused(f"agent '{binding.agent}' has no model: its steps must name a tool")
        budget = StoreBudget(self.store, bundle.profiles, self.clock.now_ms)
        services = AgentServices(
            profiles=bundle.profiles,
            tools=bundle.tools,
            model=self.model,
            caller=self.tools,
            budget=budget,
        )
        try:
            outcome = await run_agent_step(step, services, key=key, traceparent=parent)
        except AgentStepError as error:
            return StepOutcome(
                ok=False,
                error=self.redactor.redact(str(error)),
                retryable=error.retryable,
                tokens=error.usage.tokens,
                dollars=error.usage.dollars,
                calls=tuple(_record(c) for c in error.calls),
            )
        return checked(
            step,
            StepOutcome(
                ok=True,
                output=outcome.output,
                tokens=outcome.usage.tokens,
                dollars=outcome.usage.dollars,
                calls=tuple(_record(c) for c in outcome.calls),
            ),
        )

    async def _tool(self, call: ToolCall) -> StepOutcome:
        started = time.perf_counter()
        cost = call.profile.cost_per_call or 0.0
        try:
            output = await self.tools.call(call)
        except ToolError as error:
            message = self.redactor.redact(str(error))
            record = _call(call, None, started, error.kind)
            spent = (
                0.0
                if error.kind in ("refused", "invalid-input", "circuit-open", "secret")
                else cost
            )
            return StepOutcome(
                ok=False, error=message, retryable=error.retryable, dollars=spent, calls=(record,)
            )
        return StepOutcome(
            ok=True, output=output, dollars=cost, calls=(_call(call, output, started, "ok"),)
        )


def _refused(message: str) -> StepOutcome:
    return StepOutcome(ok=False, error=message, retryable=False)


def _call(call: ToolCall, output: object, started: float, outcome: str) -> CallRecord:
    return CallRecord(
        tool=call.tool.name,
        idempotency_key=call.idempotency_key,
        input_hash=digest_of(call.input),
        output_hash=digest_of(output) if outcome == "ok" else None,
        duration_ms=int((time.perf_counter() - started) * 1000),
        outcome=outcome,
    )


def _record(call: ToolCallRecord) -> CallRecord:
    return CallRecord(
        tool=call.tool,
        idempotency_key=call.idempotency_key,
        input_hash=call.input_hash,
        output_hash=call.output_hash,
        duration_ms=call.duration_ms,
        outcome=call.outcome,
    )


def live_steps(
    store: SqlStore, clock: Clock, redactor: Redactor, secrets: Secrets | None = None
) -> LiveSteps:
    """The runner of live runs; secrets from ``AF_SECRET_<NAME>``, then ``AF_SECRETS_DIR``;
    ``redactor`` learns every value resolved (the logs mask them through it too)."""
    resolved = RedactingSecrets(
        secrets if secrets is not None else EnvSecrets.from_environment(), redactor
    )
    tools = ToolCallers(
        resolved, clock.now_ms, redactor=redactor, mcp=McpCaller(resolved, _Egress())
    )
    return LiveSteps(
        tools=tools, model=OpenAIClient(resolved), redactor=redactor, store=store, clock=clock
    )
