"""The resources docs/source-format.md shows whole are valid resources, as written."""

from __future__ import annotations

import re

import pytest

from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.schema import load_resource
from tests.conftest import ROOT

PAGE = ROOT / "docs" / "source-format.md"
_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
WHOLE = [b for b in _BLOCK.findall(PAGE.read_text(encoding="utf-8")) if "apiVersion:" in b]


def test_the_guide_shows_every_kind_whole() -> None:
    kinds = {m.group(1) for b in WHOLE for m in [re.search(r"^kind: (\w+)", b, re.M)] if m}
    assert {"Project", "Tool", "Agent", "Template", "TemplateInstance", "Scenario"} <= kinds


@pytest.mark.parametrize("block", WHOLE, ids=lambda b: re.sub(r"\W+", "-", b.splitlines()[0]))
def test_a_whole_resource_in_the_guide_loads_without_a_problem(block: str) -> None:
    report = Report()
    assert load_resource("snippet.yaml", block, report) is not None
    assert report.diagnostics() == []
