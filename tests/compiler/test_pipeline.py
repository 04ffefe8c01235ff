"""The pipeline keeps what later stages (plans, bundles) need from validation."""

from __future__ import annotations

from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO


def test_validation_keeps_the_compiled_conditions() -> None:
    result = validate_snapshot(read_folder(EXAMPLE_REPO))
    assert not result.report.has_errors()
    key = (
        "Workflow",
        "support-triage",
        ("spec", "states", "classify", "transitions", 0, "condition"),
    )
    compiled = result.conditions[key]
    assert compiled.source == "output.intent == 'question' && output.confidence >= 0.8"
    assert compiled.result_type == "BOOL"
    assert compiled.checked  # the serialized checked form the runtime loads
    when = ("spec", "root", "sequence", 1, "conditional_selector", 0, "when")
    assert ("Workflow", "priority-intake", when) in result.conditions
