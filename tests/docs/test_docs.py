"""The documentation keeps up with the code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.compiler.diagnostics.codes import REGISTRY
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
    assert block[0].endswith("af run support-triage examples/repo --scenario password-reset")
    assert block[1] == ".venv/bin/python -m pytest"


_FENCE = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXIT = re.compile(r"^(.*?)\s*#\s*exit (\d)\s*$")
NOT_RUN = {
    "contributing.md": "installs the project and runs the whole suite: CI does exactly that",
    "conditions.md": "a benchmark, run on demand",
}


def _pages_with_commands() -> list[Path]:
    pages = sorted((ROOT / "docs").glob("*.md"))
    return [p for p in pages if p.name not in NOT_RUN and _FENCE.search(p.read_text("utf-8"))]


def _script(page: Path) -> str:
    """The page's bash blocks as one script; `# exit N` says a command must exit with N."""
    lines = ["set -euo pipefail"]
    for block in _FENCE.findall(page.read_text(encoding="utf-8")):
        for line in block.splitlines():
            expected = _EXIT.match(line)
            if expected:
                command, code = expected.groups()
                line = f"rc=0; {command} || rc=$?; test $rc -eq {code} || exit 99"
            lines.append(line.replace("/tmp/", "$DOCS_TMP/"))
    return "\n".join(lines) + "\n"


def _commit_twice(work: Path) -> None:
    git = ["git", "-c", "user.name=Docs", "-c", "user.email=docs@example.com"]
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["commit", "-q", "-m", "first"],
        ["commit", "-q", "--allow-empty", "-m", "second"],
    ):
        subprocess.run([*git, *command], cwd=work, check=True, capture_output=True)


@pytest.mark.parametrize("page", _pages_with_commands(), ids=lambda p: p.name)
def test_every_command_in_the_docs_runs_as_the_docs_say(page: Path, tmp_path: Path) -> None:
    """Each page's bash blocks run in order, in a copy of the examples and fixtures."""
    work = tmp_path / "checkout"
    for folder in ("examples", "tests/fixtures"):
        shutil.copytree(ROOT / folder, work / folder, symlinks=True)
    _commit_twice(work)  # so that `--rev HEAD~1` has a commit to read
    (tmp_path / "tmp").mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DOCS_TMP": str(tmp_path / "tmp"),
    }
    result = subprocess.run(
        ["bash", "-c", _script(page)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{page.name}:\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr


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
