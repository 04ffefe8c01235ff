"""The agent step loop: a real model client against the fake provider, a stub tool caller."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from agentflow.bundle.plan import Binding
from agentflow.bundle.profile import ExecProfile
from agentflow.runtime.agents.budget import BudgetExceeded
from agentflow.runtime.agents.loop import (
    AgentOutcome,
    AgentServices,
    AgentStepError,
    run_agent_step,
)
from agentflow.runtime.agents.openai import OpenAIClient
from agentflow.runtime.audit import digest_of
from agentflow.runtime.engine.run import RunStep
from agentflow.runtime.tools.base import Json, ToolCall, ToolError
from tests.runtime.fakes.bundle_parts import DictSecrets, exec_profile, http_tool, model_settings
from tests.runtime.fakes.openai_server import FakeOpenAI, Reply, serve_openai

pytestmark = pytest.mark.loopback

API_KEY = "sk-planted-1b9e44d0f7"
KEY = "run1:answer:1"
TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE}-b7ad6b7169203331-01"
SCHEMA = {
    "type": "object",
    "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
    "required": ["subject", "body"],
}
SEARCH_SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}}
ANSWER = '{"subject": "Password reset", "body": "Open Settings > Security."}'
SEARCH = Reply(tool_calls=(("call_1", "kb-search", {"query": "reset password"}),))


class StubTools:
    """A `ToolCaller` that answers from a dict by tool name (a ToolError is raised)."""

    def __init__(self, answers: dict[str, Json]) -> None:
        self.answers = answers
        self.calls: list[ToolCall] = []

    async def call(self, call: ToolCall) -> Json:
        self.calls.append(call)
        answer = self.answers[call.tool.name]
        if isinstance(answer, ToolError):
            raise answer
        return answer


class LimitBudget:
    """Tokens left for the period; a reservation above them is refused."""

    def __init__(self, tokens: int) -> None:
        self.left = tokens
        self.reserved: list[int] = []
        self.spent: list[tuple[str, int, float]] = []

    def reserve(self, agent: str, tokens: int) -> None:
        if tokens > self.left:
            raise BudgetExceeded(f"{tokens} tokens asked, {self.left} left today")
        self.reserved.append(tokens)

    def spend(self, agent: str, tokens: int, dollars: float) -> None:
        self.left -= tokens
        self.spent.append((agent, tokens, dollars))


def _profiles(base_url: str) -> dict[str, ExecProfile]:
    model = model_settings(base_url, max_tokens=256)
    return {
        "writer": exec_profile("writer", model=model, timeout_ms=3_000),
        "writer.kb-search": exec_profile(
            "writer", "kb-search", timeout_ms=4_000, cost_per_call=0.002
        ),
        "writer.ticket-create": exec_profile("writer", "ticket-create"),
    }


def _step(
    *,
    prompt: str | None = "Answer the ticket: How do I reset my password?",
    schema: Any = SCHEMA,
    planning: tuple[str, ...] | None = None,
    max_rounds: int | None = None,
    timeout_ms: int | None = None,
) -> RunStep:
    return RunStep(
        seq=3,
        attempt=1,
        key="answer",
        name="answer",
        plan="support-triage",
        binding=Binding(
            agent="writer", tool=None, profile="writer", tools=("kb-search", "ticket-create")
        ),
        prompt=prompt,
        input={"ticket": "How do I reset my password?"},
        output_schema=None if schema is None else json.dumps(schema),
        timeout_ms=timeout_ms,
        planning=planning,
        max_rounds=max_rounds,
    )


def _run(
    fake: FakeOpenAI,
    step: RunStep,
    tools: StubTools | None = None,
    budget: LimitBudget | None = None,
) -> AgentOutcome:
    services = AgentServices(
        profiles=_profiles(fake.base_url),
        tools={
            "kb-search": http_tool("kb-search", input_schema=SEARCH_SCHEMA),
            "ticket-create": http_tool("ticket-create"),
        },
        model=OpenAIClient(secrets=DictSecrets({"openai-key": API_KEY})),
        caller=tools or StubTools({}),
        budget=budget or LimitBudget(100_000),
    )
    return asyncio.run(run_agent_step(step, services, key=KEY, traceparent=TRACEPARENT))


def _fails(fake: FakeOpenAI, step: RunStep, **options: Any) -> AgentStepError:
    with pytest.raises(AgentStepError) as raised:
        _run(fake, step, **options)
    return raised.value


def test_the_model_calls_a_tool_under_its_profile_then_answers() -> None:
    found = {"items": [{"title": "Reset your password"}], "confidence": 0.9}
    tools = StubTools({"kb-search": found})
    budget = LimitBudget(100_000)
    with serve_openai(
        SEARCH, Reply(content=ANSWER, prompt_tokens=60, completion_tokens=20)
    ) as fake:
        outcome = _run(fake, _step(timeout_ms=2_500), tools, budget)

    assert outcome.output == json.loads(ANSWER)
    (call,) = tools.calls
    assert call.profile == _profiles(fake.base_url)["writer.kb-search"]
    assert call.tool.name == "kb-search"
    assert call.input == {"query": "reset password"}
    assert call.idempotency_key == f"{KEY}:1"
    assert call.timeout_ms == 2_500  # the step's timeout, below the profile's 4s
    assert call.traceparent.startswith(f"00-{TRACE}-") and call.traceparent != TRACEPARENT

    first, second = (seen.body for seen in fake.requests)
    assert [t["function"]["name"] for t in first["tools"]] == ["kb-search", "ticket-create"]
    assert first["tools"][0]["function"]["parameters"] == SEARCH_SCHEMA
    assert first["response_format"]["json_schema"]["schema"] == SCHEMA
    assert first["messages"][1] == {
        "role": "user",
        "content": "Answer the ticket: How do I reset my password?",
    }
    assert "writer" in first["messages"][0]["content"]
    assert second["messages"][-1] == {
        "role": "tool",
        "content": json.dumps(found),
        "tool_call_id": "call_1",
    }
    assert [seen.headers["idempotency-key"] for seen in fake.requests] == [
        f"{KEY}:model:1",
        f"{KEY}:model:2",
    ]

    assert (outcome.usage.prompt_tokens, outcome.usage.completion_tokens) == (71, 27)
    assert outcome.usage.dollars == pytest.approx(0.002)
    assert budget.spent == [("writer", 18, 0.0), ("writer", 0, 0.002), ("writer", 80, 0.0)]
    (record,) = outcome.calls
    assert record.tool == "kb-search" and record.outcome == "ok"
    assert record.idempotency_key == f"{KEY}:1"
    assert record.input_hash == digest_of({"query": "reset password"})
    assert record.output_hash == digest_of(found)
    assert record.duration_ms >= 0


def test_without_a_prompt_the_model_gets_the_step_input() -> None:
    with serve_openai(Reply(content=ANSWER)) as fake:
        _run(fake, _step(prompt=None))
    assert json.loads(fake.requests[0].body["messages"][1]["content"]) == {
        "ticket": "How do I reset my password?"
    }


def test_a_tool_error_goes_back_to_the_model_as_text() -> None:
    tools = StubTools({"kb-search": ToolError("timeout", "tool kb-search: no answer in 4000 ms")})
    with serve_openai(SEARCH, Reply(content=ANSWER)) as fake:
        outcome = _run(fake, _step(), tools)
    told = json.loads(fake.requests[1].body["messages"][-1]["content"])
    assert told == {"error": {"kind": "timeout", "message": "tool kb-search: no answer in 4000 ms"}}
    assert outcome.calls[0].outcome == "timeout" and outcome.calls[0].output_hash is None
    assert outcome.usage.dollars == pytest.approx(0.002)  # the tool was reached: it costs


def test_a_tool_the_agent_does_not_have_is_not_called() -> None:
    tools = StubTools({})
    rogue = Reply(tool_calls=(("call_9", "shell", {"cmd": "rm -rf /"}),))
    with serve_openai(rogue, Reply(content=ANSWER)) as fake:
        outcome = _run(fake, _step(), tools)
    assert tools.calls == [] and outcome.calls == ()
    told = json.loads(fake.requests[1].body["messages"][-1]["content"])
    assert told["error"]["kind"] == "unknown-tool"


def test_an_answer_that_is_not_json_fails_the_step() -> None:
    with serve_openai(Reply(content="Sure! Open Settings > Security.")) as fake:
        error = _fails(fake, _step())
    assert "not JSON" in str(error) and "Sure! Open Settings" in str(error)
    assert error.usage.tokens == 18


def test_an_answer_that_does_not_match_the_schema_fails_the_step() -> None:
    with serve_openai(Reply(content='{"subject": 7}')) as fake:
        error = _fails(fake, _step())
    message = str(error)
    assert "does not match the step's output schema" in message
    assert "subject: 7 is not of type 'string'" in message
    assert "'body' is a required property" in message


def test_over_budget_fails_before_any_request_is_sent() -> None:
    with serve_openai(Reply(content=ANSWER)) as fake:
        error = _fails(fake, _step(), budget=LimitBudget(100))
    assert fake.requests == []
    assert error.retryable is False
    assert "agent writer is over budget" in str(error) and "100 left" in str(error)


def test_the_reservation_covers_max_tokens_and_the_prompt() -> None:
    budget = LimitBudget(100_000)
    with serve_openai(Reply(content=ANSWER)) as fake:
        _run(fake, _step(), budget=budget)
    (reserved,) = budget.reserved
    assert reserved > 256  # max_tokens, plus the prompt's estimate


def test_running_out_of_rounds_fails_the_planner_turn() -> None:
    decisions = ("search", "answer", "escalate")
    schema = {"type": "object", "properties": {"decision": {"type": "string"}}}
    tools = StubTools({"kb-search": {"items": []}})
    with serve_openai(SEARCH) as fake:  # the last reply repeats: it never stops searching
        error = _fails(fake, _step(schema=schema, planning=decisions, max_rounds=3), tools=tools)
    assert len(fake.requests) == 3
    assert "still calling tools after 3 model calls" in str(error)
    assert [c.idempotency_key for c in tools.calls] == [f"{KEY}:1", f"{KEY}:2", f"{KEY}:3"]
    assert len(error.calls) == 3  # what was called is kept for the audit trail
    system = fake.requests[0].body["messages"][0]["content"]
    assert "must be one of: search, answer, escalate" in system


def test_a_model_failure_fails_the_step_and_keeps_its_retryability() -> None:
    with serve_openai(Reply(status=503)) as fake:
        error = _fails(fake, _step())
    assert error.retryable is True and "HTTP 503" in str(error)
    with serve_openai(Reply(status=400)) as fake:
        assert _fails(fake, _step()).retryable is False


def test_the_step_timeout_bounds_the_whole_loop() -> None:
    with serve_openai(Reply(content=ANSWER, delay=2)) as fake:
        error = _fails(fake, _step(timeout_ms=300))
    assert "step answer ran past its timeout of 300 ms" in str(error)
    assert error.retryable is True


def test_the_api_key_never_appears_in_a_failed_step(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve_openai(Reply(status=401, echo_authorization=True)) as fake:
        error = _fails(fake, _step())
    assert fake.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    captured = capfd.readouterr()
    for text in (str(error), repr(error), caplog.text, captured.out, captured.err):
        assert API_KEY not in text
