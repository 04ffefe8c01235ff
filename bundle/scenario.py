"""Scenarios as `af test` runs them: compiled by the compiler, never part of a bundle.

A Scenario (SPEC §1) is a workflow test kept in the repository: an input, stubbed answers for
agents and tools, approval decisions, and the status and path the run must end with. The
compiler checks it (AF9xx) and writes the checked form beside the bundle
(``scenarios.json``, format ``agentflow.scenarios/v1``); the runtime reads it with
`scenarios_from_json` and runs each on the embedded runtime with the stubs answering instead of
the network. Scenarios change no plan-cache key and no bundle digest.

Stubs answer by name: a step with a tool is answered by that tool's stub when there is one, else
by its agent's; a step without a tool by its agent's. Answers are used in call order and the
last one repeats. The names a ``path`` holds are what `af run` prints as a step's ``state``: an
FSM state's name; a behavior-tree action's ``agent`` or ``agent/tool``; an LLM planner's turns as
the planner agent's name, then, after a fallback, the fallback FSM's states.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.plan import JsonText

SCENARIOS_FORMAT = "agentflow.scenarios/v1"
RunStatus = Literal[
    "pending", "running", "waiting", "succeeded", "failed", "cancelled", "timed_out"
]
FINAL_STATUSES: tuple[RunStatus, ...] = ("succeeded", "failed", "cancelled", "timed_out")
EXPECTABLE: tuple[RunStatus, ...] = (*FINAL_STATUSES, "waiting")


class ScenarioFormatError(ValueError):
    """A scenarios file this reader cannot use."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StubAnswer:
    """One answer of a stub: an output (the step succeeds with it) or an error (it fails)."""

    output: JsonText | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"error": self.error}
        return {"output": None if self.output is None else json.loads(self.output)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalAnswer:
    """A person's decision on an approval state: its output is exactly these three fields."""

    approved: bool
    approver: str
    comment: str

    def to_json(self) -> dict[str, Any]:
        return {"approved": self.approved, "approver": self.approver, "comment": self.comment}


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    workflow: str
    input: JsonText | None
    stubs: tuple[tuple[str, tuple[StubAnswer, ...]], ...]
    """By agent or tool name, sorted."""
    approvals: tuple[tuple[str, ApprovalAnswer], ...]
    """By approval state, sorted."""
    expect_status: RunStatus
    expect_path: tuple[str, ...] | None
    """None: the path is not checked."""
    file: str
    """Where the scenario is written, repo-relative, for `af test`'s report."""
    line: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "workflow": self.workflow,
            "input": None if self.input is None else json.loads(self.input),
            "stubs": {name: [a.to_json() for a in answers] for name, answers in self.stubs},
            "approvals": {state: a.to_json() for state, a in self.approvals},
            "expect": {
                "status": self.expect_status,
                "path": None if self.expect_path is None else list(self.expect_path),
            },
            "file": self.file,
            "line": self.line,
        }


def scenarios_to_json(scenarios: tuple[Scenario, ...], bundle_digest: str) -> dict[str, Any]:
    """The scenarios file for the bundle of ``bundle_digest``, scenarios sorted by name."""
    return {
        "formatVersion": SCENARIOS_FORMAT,
        "bundle": bundle_digest,
        "scenarios": [s.to_json() for s in sorted(scenarios, key=lambda s: s.name)],
    }


def scenarios_from_json(data: Any) -> tuple[str, tuple[Scenario, ...]]:
    """(the bundle digest the scenarios were compiled with, the scenarios)."""
    if not isinstance(data, dict) or data.get("formatVersion") != SCENARIOS_FORMAT:
        found = data.get("formatVersion") if isinstance(data, dict) else type(data).__name__
        raise ScenarioFormatError(f"not a scenarios file of format {SCENARIOS_FORMAT} ({found!r})")
    try:
        return str(data["bundle"]), tuple(_scenario(item) for item in data["scenarios"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ScenarioFormatError(f"a scenario is malformed: {error!r}") from None


def scenario_from_json(data: dict[str, Any]) -> Scenario:
    """One scenario as `Scenario.to_json` wrote it."""
    return _scenario(data)


def _scenario(data: dict[str, Any]) -> Scenario:
    expect = data["expect"]
    status = expect["status"]
    if status not in EXPECTABLE:
        raise ValueError(f"unknown status {status!r}")
    path = expect["path"]
    return Scenario(
        name=str(data["name"]),
        workflow=str(data["workflow"]),
        input=None if data["input"] is None else canonical_json(data["input"]).decode("utf-8"),
        stubs=tuple(
            (str(name), tuple(_answer(a) for a in answers))
            for name, answers in sorted(data["stubs"].items())
        ),
        approvals=tuple(
            (
                str(state),
                ApprovalAnswer(
                    approved=bool(a["approved"]),
                    approver=str(a["approver"]),
                    comment=str(a["comment"]),
                ),
            )
            for state, a in sorted(data["approvals"].items())
        ),
        expect_status=cast(RunStatus, status),
        expect_path=None if path is None else tuple(str(p) for p in path),
        file=str(data["file"]),
        line=int(data["line"]),
    )


def _answer(data: dict[str, Any]) -> StubAnswer:
    if "error" in data:
        return StubAnswer(output=None, error=str(data["error"]))
    output = data["output"]
    return StubAnswer(
        output=None if output is None else canonical_json(output).decode("utf-8"), error=None
    )
