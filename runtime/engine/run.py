"""A run as the engine sees it: its recorded state, the events it reacts to, the commands it gives.

Everything is frozen and JSON-serializable (`state_to_json`, `state_from_json`), because a run's
state is stored after every decision and any worker may load it for the next one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from agentflow.bundle.plan import Binding, JsonText
from agentflow.bundle.scenario import FINAL_STATUSES, RunStatus
from agentflow.runtime.engine.values import Json


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """A step dispatched and not answered yet (an approval waits as a step too)."""

    seq: int
    """The step's number in the run, from 1; each attempt of a retried step has its own."""
    attempt: int
    key: str
    """What the step is in its plan: an FSM state's name, a behavior-tree action's id."""
    plan: str
    """The plan (workflow) it belongs to: the run's own, or its fallback."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How a behavior-tree action ended, after its last attempt."""

    ok: bool
    output: Json


@dataclass(frozen=True, slots=True, kw_only=True)
class RunState:
    run_id: str
    workflow: str
    plan: str
    """The plan executing now: the workflow's own, or (after an LLM planner failed) its fallback."""
    status: RunStatus = "pending"
    input: Json = None
    env: Json = None
    """The environment's toggles, visible to CEL as ``env``."""
    seq: int = 0
    """The last step number given out."""
    position: str | None = None
    """FSM: the state the run is in."""
    attempt: int = 0
    """FSM: the attempt of the current state's step."""
    in_flight: tuple[Attempt, ...] = ()
    retrying: tuple[tuple[str, int], ...] = ()
    """Steps waiting for their retry timer: (key, the attempt to make)."""
    context: tuple[tuple[str, Json], ...] = ()
    """``state`` in conditions and interpolations: each finished step's last output, by name."""
    last_output: Json = None
    """``output``: the last finished step's output."""
    outcomes: tuple[tuple[str, Outcome], ...] = ()
    """Behavior trees: each finished action's outcome, by action id."""
    attempts: tuple[tuple[str, int], ...] = ()
    """Behavior trees: attempts made so far, by action id."""
    waiting_for: str | None = None
    """The approval state the run waits in."""
    fell_back: bool = False
    output: Json = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def scope(self) -> dict[str, Json]:
        """What conditions and interpolations see: ``input``, ``output``, ``state``, ``env``."""
        return {
            "input": self.input if self.input is not None else {},
            "output": self.last_output if self.last_output is not None else {},
            "state": dict(self.context),
            "env": self.env if self.env is not None else {},
        }

    def evolve(self, **changes: Any) -> RunState:
        return dataclasses.replace(self, **changes)


# --- events: what happened ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    """The run was accepted and may begin."""


@dataclass(frozen=True, slots=True)
class StepSucceeded:
    seq: int
    output: Json


@dataclass(frozen=True, slots=True)
class StepFailed:
    seq: int
    error: str
    retryable: bool = True
    """False where a retry cannot mend it: an input that does not interpolate, a refused call."""


@dataclass(frozen=True, slots=True)
class RetryDue:
    key: str
    attempt: int


@dataclass(frozen=True, slots=True)
class ApprovalGiven:
    state: str
    approved: bool
    approver: str
    comment: str


@dataclass(frozen=True, slots=True)
class ApprovalExpired:
    state: str


@dataclass(frozen=True, slots=True)
class DeadlineReached:
    """The workflow's timeout passed."""


@dataclass(frozen=True, slots=True)
class CancelRequested:
    by: str


Event = (
    Started
    | StepSucceeded
    | StepFailed
    | RetryDue
    | ApprovalGiven
    | ApprovalExpired
    | DeadlineReached
    | CancelRequested
)


# --- commands: what to do next --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStep:
    """Run one attempt of a step; its result comes back as `StepSucceeded` or `StepFailed`."""

    seq: int
    attempt: int
    key: str
    name: str
    """What `af run` prints and a scenario's ``path`` holds: the state, or ``agent/tool``."""
    plan: str
    binding: Binding
    prompt: str | None
    input: Json
    output_schema: JsonText | None
    timeout_ms: int | None
    """The step's own timeout; None: its ExecProfile's."""
    planning: tuple[str, ...] | None = None
    """For an LLM planner's turn: the decisions it may take (its answer is checked here)."""
    max_rounds: int | None = None
    """For an LLM planner's turn: the most model calls it may make (``maxSteps``)."""
    temperature: float | None = None
    refused: str | None = None
    """Set when the step cannot run as planned (its input does not interpolate): the executor
    records the failure without calling anything."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AwaitApproval:
    seq: int
    state: str
    role: str
    prompt: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTimer:
    kind: Literal["retry", "approval", "deadline"]
    at_ms: int
    key: str = ""
    attempt: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Finish:
    status: RunStatus
    output: Json
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FallBack:
    """An LLM planner gave up; the run continues in its fallback plan (recorded, with why)."""

    plan: str
    reason: str


Command = RunStep | AwaitApproval | SetTimer | FallBack | Finish


@dataclass(frozen=True, slots=True)
class Decision:
    state: RunState
    commands: tuple[Command, ...] = ()


# --- JSON -----------------------------------------------------------------------------------


def state_to_json(state: RunState) -> dict[str, Any]:
    """The state as stored with the run (plain JSON)."""
    data = dataclasses.asdict(state)
    data["in_flight"] = [dataclasses.asdict(a) for a in state.in_flight]
    data["retrying"] = [list(item) for item in state.retrying]
    data["context"] = [[name, value] for name, value in state.context]
    data["outcomes"] = [[key, {"ok": o.ok, "output": o.output}] for key, o in state.outcomes]
    data["attempts"] = [list(item) for item in state.attempts]
    return data


def state_from_json(data: Mapping[str, Any]) -> RunState:
    return RunState(
        **{
            **data,
            "in_flight": tuple(Attempt(**a) for a in data["in_flight"]),
            "retrying": tuple((str(k), int(n)) for k, n in data["retrying"]),
            "context": tuple((str(k), v) for k, v in data["context"]),
            "outcomes": tuple(
                (str(k), Outcome(ok=o["ok"], output=o["output"])) for k, o in data["outcomes"]
            ),
            "attempts": tuple((str(k), int(n)) for k, n in data["attempts"]),
        }
    )


def with_item(
    items: tuple[tuple[str, Any], ...], key: str, value: Any
) -> tuple[tuple[str, Any], ...]:
    """``items`` (pairs sorted by key) with ``key`` set to ``value``."""
    return tuple(sorted({**dict(items), key: value}.items()))
