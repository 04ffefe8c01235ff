"""The documentation keeps up with the code."""

from __future__ import annotations

import re

from agentflow.compiler.codes import REGISTRY
from tests.conftest import ROOT


def test_every_registered_code_is_documented() -> None:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (AF\d{3}) \| (error|warning) \|", text, re.MULTILINE))
    registered = {(code.id, code.severity) for code in REGISTRY.values()}
    assert registered - documented == set(), "add these codes to docs/diagnostics.md"
    assert documented - registered == set(), "docs/diagnostics.md lists codes that do not exist"


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```bash") + 1 : lines.index("```")]
    assert block[0].endswith("af validate examples/repo")
    assert block[1] == ".venv/bin/python -m pytest"
