"""Approvals on the embedded runtime, before and after the run waits, and runs pinned to the
bundle they started on while a newer one arrives."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from agentflow.bundle.scenario import Scenario, StubAnswer
from agentflow.runtime.clock import VirtualClock
from agentflow.runtime.embedded import Embedded
from agentflow.runtime.engine.run import state_from_json
from agentflow.runtime.steps import ScenarioSteps
from tests.conftest import EXAMPLE_REPO
from tests.runtime.bundles import archive_of

DECISION = {"approved": True, "approver": "lead@example.com", "comment": "ok"}


def _stub(value: object) -> tuple[StubAnswer, ...]:
    return (StubAnswer(output=json.dumps(value), error=None),)


REFUND = Scenario(
    name="refund",
    workflow="refund-request",
    input='{"ticket":"Refund order 9, 20 EUR."}',
    stubs=(
        ("classifier", _stub({"order_id": "9", "amount": 20.0, "reason": "late"})),
        ("refund-issue", _stub({"refund_id": "R-1", "status": "issued"})),
        ("send-email", _stub({"message_id": "m", "accepted": True})),
    ),
    approvals=(),
    expect_status="succeeded",
    expect_path=None,
    file="",
    line=0,
)


def _runtime(tmp_path: Path) -> Embedded:
    return Embedded(tmp_path / "data", ScenarioSteps(REFUND), clock=VirtualClock(1_000))


def _path(runtime: Embedded, run_id: str) -> list[str]:
    return [step.name for step in runtime.store.steps(run_id)]


def test_an_approval_after_the_wait_lets_the_run_go_on(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    bundle = runtime.add_bundle(archive_of(folder=tmp_path / "dist"))
    run_id = runtime.start(bundle, "refund-request", {"ticket": "Refund order 9, 20 EUR."})
    asyncio.run(runtime.drive([run_id]))
    waiting = runtime.store.run(run_id)
    assert waiting is not None and waiting.status == "waiting"
    assert state_from_json(waiting.state).waiting_for == "approve_refund"
    runtime.signal(run_id, "approve", "approve_refund", DECISION, "lead@example.com")
    asyncio.run(runtime.drive([run_id]))
    done = runtime.store.run(run_id)
    assert done is not None and done.status == "succeeded"
    assert _path(runtime, run_id) == [
        "assess_refund",
        "approve_refund",
        "issue_refund",
        "send_refunded",
    ]
    approval = runtime.store.steps(run_id)[1]
    assert approval.output == DECISION and approval.agent is None
    refund = runtime.store.steps(run_id)[2]
    assert refund.input == {"order_id": "9", "amount": 20.0, "approver": "lead@example.com"}


def test_an_approval_sent_before_the_run_reaches_the_state_is_kept_not_lost(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    bundle = runtime.add_bundle(archive_of(folder=tmp_path / "dist"))
    run_id = runtime.start(bundle, "refund-request", {"ticket": "Refund order 9, 20 EUR."})
    denial = {**DECISION, "approved": False, "comment": "not this time"}
    runtime.signal(run_id, "approve", "approve_refund", denial, "lead@example.com")  # early
    asyncio.run(runtime.drive([run_id]))
    done = runtime.store.run(run_id)
    assert done is not None and done.status == "succeeded"
    assert _path(runtime, run_id) == ["assess_refund", "approve_refund", "send_denied"]
    assert runtime.store.steps(run_id)[2].input["body"] == "not this time"
    # the decision was taken once: a second one for the same state changes nothing now
    runtime.signal(run_id, "approve", "approve_refund", DECISION, "someone@example.com")
    asyncio.run(runtime.drive([run_id]))
    assert _path(runtime, run_id) == ["assess_refund", "approve_refund", "send_denied"]


def test_a_cancel_ends_a_waiting_run(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    bundle = runtime.add_bundle(archive_of(folder=tmp_path / "dist"))
    run_id = runtime.start(bundle, "refund-request", {"ticket": "Refund order 9, 20 EUR."})
    asyncio.run(runtime.drive([run_id]))
    runtime.signal(run_id, "cancel", None, {}, "ana")
    asyncio.run(runtime.drive([run_id]))
    done = runtime.store.run(run_id)
    assert done is not None and done.status == "cancelled" and done.error == "cancelled by ana"


def test_a_run_keeps_the_bundle_it_started_on(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    first = runtime.add_bundle(archive_of(folder=tmp_path / "dist-a"))
    run_id = runtime.start(first, "refund-request", {"ticket": "Refund order 9, 20 EUR."})
    asyncio.run(runtime.drive([run_id]))  # waiting for the approval
    changed = tmp_path / "repo"
    shutil.copytree(EXAMPLE_REPO, changed, ignore=shutil.ignore_patterns(".af"))
    flow = changed / "workflows" / "refund-request.yaml"
    flow.write_text(flow.read_text().replace('"Your refund is on its way"', '"Refund issued"'))
    second = runtime.add_bundle(archive_of(changed, folder=tmp_path / "dist-b"))
    assert second.digest != first.digest
    later = runtime.start(second, "refund-request", {"ticket": "Refund order 9, 20 EUR."})
    for run in (run_id, later):
        runtime.signal(run, "approve", "approve_refund", DECISION, "lead@example.com")
    asyncio.run(runtime.drive([run_id, later]))
    pinned, newer = runtime.store.run(run_id), runtime.store.run(later)
    assert pinned is not None and newer is not None
    assert (pinned.bundle_digest, newer.bundle_digest) == (first.digest, second.digest)
    subjects = [runtime.store.steps(r)[-1].input["subject"] for r in (run_id, later)]
    assert subjects == ["Your refund is on its way", "Refund issued"]
