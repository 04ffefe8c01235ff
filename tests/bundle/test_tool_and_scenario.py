"""The tool and scenario files round-trip, and hostile shapes are refused in one line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.scenario import (
    ApprovalAnswer,
    Scenario,
    ScenarioFormatError,
    StubAnswer,
    scenarios_from_json,
    scenarios_to_json,
)
from agentflow.bundle.secrets import SecretRef, text_from_json
from agentflow.bundle.tool import McpTarget, ToolFormatError, ToolSpec, tool_from_json

TOOL = ToolSpec(
    name="kb-search",
    version="2.1.0",
    type="mcp",
    endpoint=None,
    mcp=McpTarget(server="http://127.0.0.1:9000/mcp", tool="search"),
    entrypoint=None,
    headers=(("Authorization", SecretRef("kb-token")), ("X-Team", "support")),
    input_schema='{"properties":{"query":{"type":"string"}},"type":"object"}',
    output_schema=None,
)


def _through_json(value: Any) -> Any:
    return json.loads(canonical_json(value))


def test_a_tool_reads_back_as_written() -> None:
    written = _through_json(TOOL.to_json())
    assert written["headers"] == {"Authorization": {"secretRef": "kb-token"}, "X-Team": "support"}
    assert tool_from_json(written) == TOOL


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("formatVersion", "agentflow.tool/v2"),
        ("type", "ftp"),
        ("mcp", None),
        ("headers", {"Authorization": {"secretRef": "../x", "value": "y"}}),
        ("headers", {"Authorization": 7}),
        ("name", None),
    ],
)
def test_a_tool_of_the_wrong_shape_is_refused(field: str, value: Any) -> None:
    written = _through_json(TOOL.to_json())
    written[field] = value
    with pytest.raises(ToolFormatError) as raised:
        tool_from_json(written)
    assert "\n" not in str(raised.value)


def test_a_secret_reference_is_a_name_never_a_value() -> None:
    assert text_from_json({"secretRef": "support/kb.token"}) == SecretRef("support/kb.token")
    assert str(SecretRef("kb")) == '{"secretRef": "kb"}'
    for bad in ({"secretRef": ""}, {"secretRef": "-x"}, {"secretRef": 1}, {"value": "x"}, 3):
        with pytest.raises(ValueError):
            text_from_json(bad)


SCENARIO = Scenario(
    name="password-reset",
    workflow="support-triage",
    input='{"ticket":"How do I reset my password?"}',
    stubs=(
        ("classifier", (StubAnswer(output='{"confidence":0.93,"intent":"question"}', error=None),)),
        (
            "kb-search",
            (StubAnswer(output=None, error="timeout"), StubAnswer(output="{}", error=None)),
        ),
    ),
    approvals=(("approve_refund", ApprovalAnswer(approved=True, approver="ana", comment="ok")),),
    expect_status="succeeded",
    expect_path=("classify", "knowledge_search", "knowledge_search"),
    file="scenarios/password-reset.yaml",
    line=1,
)


def test_scenarios_read_back_as_written() -> None:
    written = _through_json(scenarios_to_json((SCENARIO,), "sha256:abc"))
    assert scenarios_from_json(written) == ("sha256:abc", (SCENARIO,))


def test_a_scenarios_file_of_another_format_or_shape_is_refused() -> None:
    written = _through_json(scenarios_to_json((SCENARIO,), "sha256:abc"))
    with pytest.raises(ScenarioFormatError):
        scenarios_from_json({**written, "formatVersion": "x"})
    written["scenarios"][0]["expect"]["status"] = "done"
    with pytest.raises(ScenarioFormatError):
        scenarios_from_json(written)
