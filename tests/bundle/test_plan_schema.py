"""schemas/plan.schema.json describes every plan the compiler writes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentflow.bundle.plan_json import PLAN_FORMAT, plan_to_json
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.plan.compile import compile_plans
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO, FIXTURES, ROOT
from tests.golden import GOLDEN

SCHEMA: dict[str, Any] = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
REPOS = [
    EXAMPLE_REPO,
    *sorted(p for p in (FIXTURES / "cases").iterdir() if p.is_dir()),
    *sorted(p for p in (FIXTURES / "independent").iterdir() if p.is_dir()),
    *sorted(GOLDEN.glob("*/repo")),
]


def plans_json(root: Path) -> dict[str, dict[str, Any]]:
    """Every plan a repository compiles to; fixtures with errors still plan what they can."""
    validation = validate_snapshot(read_folder(root))
    plans = compile_plans(validation.index, validation.conditions, validation.report)
    return {name: plan_to_json(plan) for name, plan in plans.items()}


def test_the_schema_is_draft_07() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SCHEMA["$id"] == "https://agentflow.dev/schemas/v1/plan.schema.json"
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["formatVersion"]["const"] == PLAN_FORMAT


@pytest.mark.parametrize("root", REPOS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_plan_validates(root: Path) -> None:
    for name, plan in plans_json(root).items():
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(plan)]
        assert errors == [], f"{root.name}/{name}"


def test_the_fixtures_cover_every_planner_and_node_kind() -> None:
    text = json.dumps([plans_json(root) for root in REPOS])
    for planner in ("fsm", "bt", "llm"):
        assert f'"planner": "{planner}"' in text
    for kind in ("action", "condition", "sequence", "selector", "parallel", "conditional_selector"):
        assert f'"kind": "{kind}"' in text


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("formatVersion"),
        lambda p: p.update(formatVersion="agentflow.plan/v2"),
        lambda p: p.update(extra=1),
        lambda p: p.update(bt={"root": {"kind": "action"}}),
        lambda p: p["fsm"]["states"]["classify"]["step"]["binding"].pop("profile"),
        lambda p: p["fsm"]["states"]["classify"]["transitions"][0].update(condition="x"),
        lambda p: p["fsm"]["states"]["classify"]["step"]["retry"].update(maxAttempts=0),
    ],
)
def test_a_changed_plan_is_refused(mutate: Any) -> None:
    plan = copy.deepcopy(plans_json(EXAMPLE_REPO)["support-triage"])
    assert VALIDATOR.is_valid(plan)
    mutate(plan)
    assert not VALIDATOR.is_valid(plan)
