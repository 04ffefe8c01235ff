"""A plan's checked conditions evaluate from the bundle alone, with the compiler's engine."""

from __future__ import annotations

import base64
import json

import pytest

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.conditions import ConditionError, ConditionEvaluator
from agentflow.bundle.plan import FsmPlan
from agentflow.bundle.plan_json import plan_from_json, plan_to_json
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO

VARIABLES = ("output", "input", "state", "env")


def _triage() -> FsmPlan:
    """support-triage as a runtime gets it: written to JSON and read back."""
    validation = validate_snapshot(read_folder(EXAMPLE_REPO))
    written = json.loads(canonical_json(plan_to_json(validation.plans["support-triage"])))
    plan = plan_from_json(written)
    assert isinstance(plan, FsmPlan)
    return plan


def test_the_first_transition_of_triage_routes_by_intent_and_confidence() -> None:
    classify = next(state for state in _triage().states if state.name == "classify")
    first = classify.transitions[0]
    assert first.condition is not None
    evaluator = ConditionEvaluator(VARIABLES)
    context = {"input": {"ticket": "t"}, "state": {}, "env": {}}
    confident = {"intent": "question", "confidence": 0.93}
    unsure = {"intent": "question", "confidence": 0.2}
    assert evaluator.evaluate(first.condition.checked, {**context, "output": confident}) is True
    assert evaluator.evaluate(first.condition.checked, {**context, "output": unsure}) is False
    # an int where the schema says number compares as a number
    whole = {"intent": "question", "confidence": 1}
    assert evaluator.evaluate(first.condition.checked, {**context, "output": whole}) is True


def test_a_condition_that_cannot_answer_raises_rather_than_counting_as_false() -> None:
    classify = next(state for state in _triage().states if state.name == "classify")
    condition = classify.transitions[0].condition
    assert condition is not None
    evaluator = ConditionEvaluator(VARIABLES)
    with pytest.raises(ConditionError):  # no such field: CEL's no_such_field error
        evaluator.evaluate(condition.checked, {"output": {}, "input": {}, "state": {}, "env": {}})


def test_bytes_that_are_not_a_checked_expression_are_refused() -> None:
    evaluator = ConditionEvaluator(VARIABLES)
    with pytest.raises(ConditionError, match="not a checked CEL expression"):
        evaluator.evaluate(base64.b64decode("AAAA"), {})
