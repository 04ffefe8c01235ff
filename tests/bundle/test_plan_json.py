"""Plan JSON (``plans/<workflow>.json``): every compiled plan reads back unchanged, and a plan of
another format is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.plan import Plan
from agentflow.bundle.plan_json import PlanFormatError, plan_from_json, plan_to_json
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.plan.compile import compile_plans
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO, ROOT
from tests.repos import found


def plans_of(root: Path) -> tuple[dict[str, Plan], Report]:
    validation = validate_snapshot(read_folder(root))
    assert not validation.report.has_errors(), found(validation.report.diagnostics())
    plans = compile_plans(validation.index, validation.conditions, validation.report)
    return dict(plans), validation.report


@pytest.mark.parametrize(
    "root",
    [EXAMPLE_REPO, *sorted((ROOT / "tests" / "fixtures" / "cases").iterdir())],
    ids=lambda p: p.name,
)
def test_plans_read_back_from_their_json_unchanged(root: Path) -> None:
    validation = validate_snapshot(read_folder(root))
    for plan in validation.plans.values():
        document = json.loads(canonical_json(plan_to_json(plan)))
        assert plan_from_json(document) == plan


def test_a_plan_of_another_format_is_refused() -> None:
    plans, _ = plans_of(EXAMPLE_REPO)
    document = plan_to_json(plans["support-triage"])
    with pytest.raises(PlanFormatError, match="agentflow.plan/v1"):
        plan_from_json({**document, "formatVersion": "agentflow.plan/v2"})
    del document["fsm"]
    with pytest.raises(PlanFormatError, match="malformed"):
        plan_from_json(document)
