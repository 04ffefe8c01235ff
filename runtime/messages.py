"""What travels on the bus: a run's events and its step commands, as JSON.

Three kinds of message, each naming its run: ``event`` (the run started, a timer fired),
``step`` (run one attempt of a step: the engine's `RunStep`) and ``signal`` (an approval or a
cancel was recorded). Their payloads are plain JSON so any worker, on any machine, can take them.
"""

from __future__ import annotations

from typing import Any

from agentflow.bundle.plan_json import binding_from_json, binding_to_json
from agentflow.runtime.engine.run import (
    ApprovalExpired,
    DeadlineReached,
    Event,
    RetryDue,
    RunStep,
    Started,
)


def step_to_json(step: RunStep) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "attempt": step.attempt,
        "key": step.key,
        "name": step.name,
        "plan": step.plan,
        "binding": binding_to_json(step.binding),
        "prompt": step.prompt,
        "input": step.input,
        "outputSchema": step.output_schema,
        "timeoutMs": step.timeout_ms,
        "planning": list(step.planning) if step.planning is not None else None,
        "maxRounds": step.max_rounds,
        "temperature": step.temperature,
        "refused": step.refused,
    }


def step_from_json(data: dict[str, Any]) -> RunStep:
    planning = data["planning"]
    return RunStep(
        seq=int(data["seq"]),
        attempt=int(data["attempt"]),
        key=str(data["key"]),
        name=str(data["name"]),
        plan=str(data["plan"]),
        binding=binding_from_json(data["binding"]),
        prompt=data["prompt"],
        input=data["input"],
        output_schema=data["outputSchema"],
        timeout_ms=data["timeoutMs"],
        planning=tuple(planning) if planning is not None else None,
        max_rounds=data["maxRounds"],
        temperature=data["temperature"],
        refused=data["refused"],
    )


def event_to_json(event: Event) -> dict[str, Any]:
    """Events that travel as messages: the start and the timers."""
    if isinstance(event, Started):
        return {"type": "started"}
    if isinstance(event, RetryDue):
        return {"type": "retry", "key": event.key, "attempt": event.attempt}
    if isinstance(event, ApprovalExpired):
        return {"type": "approval-expired", "state": event.state}
    if isinstance(event, DeadlineReached):
        return {"type": "deadline"}
    raise ValueError(f"{type(event).__name__} does not travel as a message")


def event_from_json(data: dict[str, Any]) -> Event:
    kind = data["type"]
    if kind == "started":
        return Started()
    if kind == "retry":
        return RetryDue(str(data["key"]), int(data["attempt"]))
    if kind == "approval-expired":
        return ApprovalExpired(str(data["state"]))
    if kind == "deadline":
        return DeadlineReached()
    raise ValueError(f"unknown event {kind!r}")


def timer_event(kind: str, key: str, attempt: int) -> Event:
    """The event a fired timer becomes."""
    if kind == "retry":
        return RetryDue(key, attempt)
    if kind == "approval":
        return ApprovalExpired(key)
    return DeadlineReached()
