"""The documentation keeps up with the code."""

from __future__ import annotations

import re

from agentflow.compiler.codes import REGISTRY
from tests.conftest import ROOT, run_af


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


def _console_examples(text: str) -> list[tuple[list[str], str]]:
    """(command words, expected output) for each ``$ af …`` of the ```console blocks."""
    examples: list[tuple[list[str], str]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            if command.startswith("af ") and ">" not in command and "WORKFLOW" not in command:
                examples.append((command.split()[1:], output))
    return examples


def test_the_graph_guide_shows_what_af_graph_prints() -> None:
    text = (ROOT / "docs" / "graph.md").read_text(encoding="utf-8")
    examples = _console_examples(text)
    assert len(examples) >= 3
    for words, expected in examples:
        result = run_af(*words, cwd=ROOT)
        assert result.stdout + result.stderr == expected, " ".join(words)
    rendered = re.search(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert rendered is not None
    assert rendered.group(1) == run_af("graph", "support-triage", "examples/repo", cwd=ROOT).stdout
