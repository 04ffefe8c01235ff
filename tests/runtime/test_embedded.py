"""The embedded runtime end to end on the example: a run's steps are recorded once each, in
order, its audit trail verifies, and it stays pinned to its bundle."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agentflow.bundle.scenario import Scenario, StubAnswer
from agentflow.runtime.audit import verify
from agentflow.runtime.clock import VirtualClock
from agentflow.runtime.embedded import Embedded, RunRefused
from agentflow.runtime.steps import ScenarioSteps
from agentflow.runtime.worker import StepReport
from tests.runtime.bundles import archive_of


def _answers(**by_name: object) -> tuple[tuple[str, tuple[StubAnswer, ...]], ...]:
    def answer(value: object) -> StubAnswer:
        if isinstance(value, Exception):
            return StubAnswer(output=None, error=str(value))
        return StubAnswer(output=json.dumps(value), error=None)

    return tuple(
        (
            name.replace("_", "-"),
            tuple(answer(v) for v in (values if isinstance(values, list) else [values])),
        )
        for name, values in sorted(by_name.items())
    )


RESET = Scenario(
    name="password-reset",
    workflow="support-triage",
    input='{"ticket":"How do I reset my password?"}',
    stubs=_answers(
        classifier={"intent": "question", "confidence": 0.93},
        kb_search=[RuntimeError("timeout"), {"items": [{"title": "Reset"}], "confidence": 0.9}],
        writer={"subject": "Password reset", "body": "Open Settings > Security."},
        send_email={"accepted": True, "message_id": "M-1"},
    ),
    approvals=(),
    expect_status="succeeded",
    expect_path=None,
    file="",
    line=0,
)


@pytest.fixture
def archive(tmp_path: Path) -> bytes:
    return archive_of(folder=tmp_path / "dist")


def _run(
    tmp_path: Path, archive: bytes, scenario: Scenario = RESET
) -> tuple[Embedded, str, list[StepReport]]:
    reports: list[StepReport] = []
    runtime = Embedded(
        tmp_path / "data",
        ScenarioSteps(scenario),
        clock=VirtualClock(1_000),
        observer=reports.append,
    )
    bundle = runtime.add_bundle(archive)
    run_id = runtime.start(bundle, scenario.workflow, json.loads(scenario.input or "null"))
    asyncio.run(runtime.drive([run_id], limit_s=60))
    return runtime, run_id, reports


def test_a_run_is_recorded_step_by_step_and_its_audit_trail_verifies(
    tmp_path: Path, archive: bytes
) -> None:
    runtime, run_id, reports = _run(tmp_path, archive)
    run = runtime.store.run(run_id)
    assert run is not None and run.status == "succeeded"
    assert run.output == {"accepted": True, "message_id": "M-1"}
    steps = runtime.store.steps(run_id)
    assert [(s.seq, s.attempt, s.name, s.status) for s in steps] == [
        (1, 1, "classify", "succeeded"),
        (2, 1, "knowledge_search", "failed"),
        (3, 2, "knowledge_search", "succeeded"),
        (4, 1, "generate_response", "succeeded"),
        (5, 1, "send_response", "succeeded"),
    ]
    assert steps[1].error == "timeout"
    assert steps[2].started_at - steps[1].ended_at >= 500  # the retry waited its backoff
    assert [(r.step.name, r.next, r.retry_at) for r in reports][:3] == [
        ("classify", ("knowledge_search",), None),
        ("knowledge_search", (), steps[1].ended_at + 500),
        ("knowledge_search", ("generate_response",), None),
    ]
    assert verify(*runtime.store.audit_trail()) is None
    records, _, _ = runtime.store.audit_trail()
    kinds = [r.kind for r in records if r.chain == run_id]
    assert kinds[0] == "run.created" and kinds[-1] == "run.status"
    assert kinds.count("step.finished") == 5
    assert [r.kind for r in records if r.chain == "global"] == ["run.anchor"]


def test_a_redelivered_step_is_not_run_or_recorded_twice(tmp_path: Path, archive: bytes) -> None:
    runtime, run_id, _ = _run(tmp_path, archive)
    from agentflow.bundle.plan import Binding
    from agentflow.runtime.bus.base import Delivery
    from agentflow.runtime.engine.run import RunStep
    from agentflow.runtime.messages import step_to_json

    step = RunStep(
        seq=1,
        attempt=1,
        key="classify",
        name="classify",
        plan="support-triage",
        binding=Binding(agent="classifier", tool=None, profile="classifier", tools=()),
        prompt=None,
        input=None,
        output_schema=None,
        timeout_ms=None,
    )
    delivery = Delivery(
        "agents.classifier.in", {"kind": "step", "run": run_id, "step": step_to_json(step)}, "x"
    )
    before = ScenarioSteps(RESET)
    runtime.worker.runner = before
    asyncio.run(runtime.worker.handle(delivery))
    assert before.used == {}  # replayed from the record: nothing was called
    assert len(runtime.store.steps(run_id)) == 5


def test_an_unknown_workflow_is_refused(tmp_path: Path, archive: bytes) -> None:
    runtime = Embedded(tmp_path / "data", ScenarioSteps(RESET), clock=VirtualClock())
    bundle = runtime.add_bundle(archive)
    with pytest.raises(RunRefused, match="support-triage"):
        runtime.start(bundle, "nope", {})


def test_conditions_read_the_environment_toggles_the_bundle_carries(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import EXAMPLE_REPO

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE_REPO, repo, ignore=shutil.ignore_patterns(".af"))
    project = repo / "af.yaml"
    project.write_text(
        project.read_text().replace("    dev:", "    dev:\n      toggles: {fast_path: true}", 1)
    )
    flow = repo / "workflows" / "support-triage.yaml"
    flow.write_text(
        flow.read_text().replace(
            "output.intent == 'question' && output.confidence >= 0.8",
            "output.intent == 'question' && (output.confidence >= 0.8 || env.fast_path)",
        )
    )
    unsure = Scenario(
        **{
            **{f: getattr(RESET, f) for f in RESET.__dataclass_fields__},
            "stubs": _answers(
                classifier={"intent": "question", "confidence": 0.2},
                kb_search={"items": [], "confidence": 0.1},
                writer={"subject": "s", "body": "b"},
                send_email={"accepted": True},
            ),
        }
    )
    for environment, expected in ((None, "escalate"), ("dev", "knowledge_search")):
        folder = tmp_path / f"dist-{environment}"
        archive = archive_of(repo, folder=folder, environment=environment)
        runtime = Embedded(folder / "data", ScenarioSteps(unsure), clock=VirtualClock())
        bundle = runtime.add_bundle(archive)
        assert bundle.view.manifest["toggles"] == ({"fast_path": True} if environment else {})
        run_id = runtime.start(bundle, "support-triage", {"ticket": "t"})
        asyncio.run(runtime.drive([run_id], limit_s=60))
        assert runtime.store.steps(run_id)[1].name == expected
