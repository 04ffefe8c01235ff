"""The documentation keeps up with the code."""

from __future__ import annotations

import re
import shlex

import pytest

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


_FENCE = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXIT = re.compile(r"#\s*exit (\d)\s*$")


def _documented_validate_commands() -> list[tuple[str, str, int]]:
    """(page, command, expected exit) for each `af validate` line in a docs bash block."""
    commands = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for block in _FENCE.findall(page.read_text(encoding="utf-8")):
            for line in block.splitlines():
                if line.startswith("af validate "):
                    expected = _EXIT.search(line)
                    command = _EXIT.sub("", line).strip()
                    commands.append((page.name, command, int(expected.group(1)) if expected else 0))
    return commands


@pytest.mark.parametrize(("page", "command", "exit_code"), _documented_validate_commands())
def test_documented_validate_commands_run_as_the_docs_say(
    page: str, command: str, exit_code: int
) -> None:
    words = shlex.split(command, comments=True)
    if ">" in words:  # output redirected to a file: run it without writing one
        words = words[: words.index(">")]
    result = run_af(*words[1:], cwd=ROOT)
    assert result.returncode == exit_code, f"{page}: {command}\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr
