"""The CI recipes in docs/ci/ are tested, not just shown (issue 6).

Every workflow file parses, has the shape GitHub Actions needs, pins its actions, keeps the
pull-request workflow free of write scopes and the comment workflow free of the pull request's
code, and every `af ...` it runs is accepted by af's real argument parser. Commands that SPEC §2
lists but af does not have yet are named in KNOWN_MISSING, and their cases fail the day they
parse, so that the placeholder in the recipe is replaced and the list stays honest.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentflow.compiler.cli import build_parser
from tests.conftest import ROOT

CI = ROOT / "docs" / "ci"
RECIPES = sorted(CI.glob("*.yml"))
GUIDE = CI / "github-actions.md"

KNOWN_MISSING = {
    "deploy": "SPEC §2 lists `af deploy`; the delivery issue implements it. Until then "
    "docs/ci/deploy.yml runs it only in a job guarded by the AF_DEPLOY_ENABLED variable.",
}

# What `${{ … }}` stands for when an `af` line is checked: plausible values, not real ones.
EXPRESSIONS = {
    "github.base_ref": "main",
    "github.event.pull_request.number": "42",
    "github.sha": "0123456789abcdef0123456789abcdef01234567",
    "steps.diff.outputs.status": "0",
    "vars.AF_DIFF_FAIL_ON": "escalation",
    "runner.temp": "/home/runner/work/_temp",
}
# Variables the runner sets (https://docs.github.com/actions/reference/variables-reference).
RUNNER_ENV = {
    "GITHUB_SHA": EXPRESSIONS["github.sha"],
    "GITHUB_OUTPUT": "/home/runner/work/_temp/_runner_file_commands/set_output",
    "GITHUB_STEP_SUMMARY": "/home/runner/work/_temp/_runner_file_commands/step_summary",
    "RUNNER_TEMP": EXPRESSIONS["runner.temp"],
}

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::-[^}]*)?\}|(\w+))")
_CONTROL = {";", "&&", "||", "|", "&", "(", ")", ";;", "|&"}
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"}
_ASSIGNMENT = re.compile(r"^\w+=")
_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+|[0-9a-f]{40})$")


def _load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path.name}: not a mapping"
    return document


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """`on:` is YAML 1.1's boolean true to PyYAML, so the key is True, not "on"."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict), "the workflow has no `on:` triggers"
    return on


def _steps(workflow: dict[Any, Any]) -> list[tuple[str, dict[Any, Any], dict[Any, Any]]]:
    """(job id, job, step) for every step of every job."""
    return [(name, job, step) for name, job in workflow["jobs"].items() for step in job["steps"]]


def _expand(text: str, where: str) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression not in EXPRESSIONS:
            pytest.fail(f"{where}: add a placeholder for `${{{{ {expression} }}}}` to EXPRESSIONS")
        return EXPRESSIONS[expression]

    return _EXPRESSION.sub(value, text)


@dataclass(frozen=True)
class AfCommand:
    where: str
    argv: tuple[str, ...]
    guard: str
    """The `if:` of the step or job that runs it, joined; "" when it always runs."""

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9.:]+", "-", self.where.lower()).strip("-")
        words = [self.argv[0] if self.argv else ""]
        if "--format" in self.argv[:-1]:
            words.append(self.argv[self.argv.index("--format") + 1])
        return f"{slug}:af-{'-'.join(words)}"


def _simple_commands(script: str) -> list[list[str]]:
    """A shell script's simple commands as words, redirections and keywords left out."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        tokens = list(lexer)
        skip = False
        for i, token in enumerate(tokens):
            if skip:
                skip = False
            elif token in _CONTROL:
                commands.append(words)
                words = []
            elif token[0] in "<>":  # a redirection and its target (`> diff.md`, `>> "$F"`)
                skip = True
            elif token.isdigit() and i + 1 < len(tokens) and tokens[i + 1][0] in "<>":
                continue  # the descriptor of `2> file`
            elif not words and (token in _KEYWORDS or _ASSIGNMENT.match(token)):
                continue
            else:
                words.append(token)
        commands.append(words)
    return [words for words in commands if words]


def _resolve(word: str, env: dict[str, str], where: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in env:
            return _expand(env[name], where)
        if name in RUNNER_ENV:
            return RUNNER_ENV[name]
        pytest.fail(f"{where}: `{word}` uses ${name}, which no env: of the recipe sets")

    return _VARIABLE.sub(value, word)


def _af_commands_in(script: str, env: dict[str, str], where: str, guard: str) -> list[AfCommand]:
    found = []
    for words in _simple_commands(_expand(script, where)):
        if words[0] == "af" or words[0].endswith("/af"):
            argv = tuple(_resolve(word, env, where) for word in words[1:])
            found.append(AfCommand(where, argv, guard))
    return found


def _recipe_commands() -> list[AfCommand]:
    commands = []
    for path in RECIPES:
        workflow = _load(path)
        for job_id, job, step in _steps(workflow):
            if "run" not in step:
                continue
            env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            where = f"{path.name}:{job_id}:{step.get('name', step.get('id', 'step'))}"
            guard = " && ".join(str(g) for g in (job.get("if"), step.get("if")) if g)
            commands += _af_commands_in(step["run"], env, where, guard)
    return commands


def _guide_commands() -> list[AfCommand]:
    """`af` lines in the guide's shell blocks (```console lines start with `$ `)."""
    text = GUIDE.read_text(encoding="utf-8")
    commands = []
    for n, block in enumerate(re.findall(r"^```(?:bash|sh|console)\n(.*?)^```", text, re.M | re.S)):
        lines = [line.removeprefix("$ ") for line in block.splitlines()]
        commands += _af_commands_in("\n".join(lines), {}, f"{GUIDE.name}:block{n + 1}", "")
    return commands


COMMANDS = _recipe_commands() + _guide_commands()


def _parse(argv: tuple[str, ...]) -> tuple[int, str]:
    """af's exit code from parsing alone (0: parsed) and what it printed."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(list(argv))
        except SystemExit as stop:
            return int(stop.code or 0), stderr.getvalue()
    return 0, ""


def test_there_are_recipes_and_they_run_af() -> None:
    names = {path.name for path in RECIPES}
    assert {"pull-request.yml", "comment.yml", "deploy.yml"} <= names
    assert {command.argv[0] for command in COMMANDS} >= {"validate", "diff", "build", "deploy"}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_the_recipe_is_a_workflow(path: Path) -> None:
    workflow = _load(path)
    assert isinstance(workflow.get("name"), str), "name it: the comment workflow refers to it"
    assert _triggers(workflow)
    assert isinstance(workflow.get("jobs"), dict) and workflow["jobs"]
    for job_id, job in workflow["jobs"].items():
        assert "runs-on" in job, f"job {job_id} has no runs-on"
        assert isinstance(job.get("steps"), list) and job["steps"], f"job {job_id} has no steps"
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"{job_id}: a step runs or uses one thing"


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_version(path: Path) -> None:
    for job_id, _, step in _steps(_load(path)):
        if "uses" in step:
            assert _PINNED.match(step["uses"]), f"{job_id}: pin `{step['uses']}` to @vN or a sha"


def test_the_pull_request_workflow_writes_nothing_but_code_scanning_results() -> None:
    workflow = _load(CI / "pull-request.yml")
    triggers = _triggers(workflow)
    assert "pull_request" in triggers and "pull_request_target" not in triggers
    scopes = [workflow.get("permissions")] + [
        j.get("permissions") for j in workflow["jobs"].values()
    ]
    assert scopes[0] is not None, "set permissions: at the top, or the token gets the defaults"
    for permissions in scopes:
        if permissions is None:
            continue
        assert isinstance(permissions, dict), f"`permissions: {permissions}` is too broad"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= {"security-events"}
    assert "secrets." not in (CI / "pull-request.yml").read_text(encoding="utf-8")


def test_the_pull_request_workflow_diffs_against_full_history() -> None:
    workflow = _load(CI / "pull-request.yml")
    diffing = {
        c.where.split(":")[1]
        for c in COMMANDS
        if c.where.startswith("pull-request.yml") and c.argv[0] == "diff"
    }
    assert diffing
    for job_id, _, step in _steps(workflow):
        if job_id in diffing and step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("fetch-depth") == 0, f"{job_id}: fetch-depth: 0"
    pythons = [s for _, _, s in _steps(workflow) if "actions/setup-python@" in s.get("uses", "")]
    assert pythons and all(s["with"]["python-version"] == "3.11" for s in pythons)


def test_the_comment_workflow_never_checks_out_or_runs_the_pull_request() -> None:
    workflow = _load(CI / "comment.yml")
    pull_request = _load(CI / "pull-request.yml")
    triggers = _triggers(workflow)
    assert set(triggers) == {"workflow_run"}
    assert triggers["workflow_run"]["workflows"] == [pull_request["name"]]
    steps = [step for _, _, step in _steps(workflow)]
    assert not [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert not [s for s in steps if "run" in s], "no shell steps: the artifact is only data"
    uploaded = {
        s["with"]["name"]
        for _, _, s in _steps(pull_request)
        if s.get("uses", "").startswith("actions/upload-artifact@")
    }
    downloads = [s for s in steps if s.get("uses", "").startswith("actions/download-artifact@")]
    assert downloads and all(s["with"]["name"] in uploaded for s in downloads)
    scripts = [s["with"]["script"] for s in steps if s.get("uses", "").startswith("actions/github")]
    assert scripts and all("<!-- agentflow-diff part (\\d+)\\/" in s for s in scripts)
    assert "<!-- agentflow-diff part 1/" in "".join(scripts)
    writes = {scope for scope, level in workflow["permissions"].items() if level == "write"}
    assert writes == {"pull-requests"}


def test_every_recipe_installs_af_from_the_one_variable() -> None:
    specs = set()
    for path in RECIPES:
        workflow = _load(path)
        installs = [s["run"] for _, _, s in _steps(workflow) if "pip install" in s.get("run", "")]
        if installs:
            assert all('"$AF_PIP_SPEC"' in run for run in installs), path.name
            specs.add(workflow["env"]["AF_PIP_SPEC"])
    assert len(specs) == 1, f"the recipes install different things: {specs}"
    assert specs.pop() in GUIDE.read_text(encoding="utf-8"), "the guide shows the install line"


def test_the_push_workflow_builds_main() -> None:
    triggers = _triggers(_load(CI / "deploy.yml"))
    assert triggers["push"]["branches"] == ["main"]
    builds = [c.argv for c in COMMANDS if c.where.startswith("deploy.yml") and c.argv[0] == "build"]
    assert builds and all({"--archive", "--env"} <= set(argv) for argv in builds)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.id)
def test_af_accepts_the_command(command: AfCommand) -> None:
    """The real parser of the installed `af` takes the line as written (exit 2 is a usage error)."""
    code, stderr = _parse(command.argv)
    subcommand = command.argv[0]
    if subcommand in KNOWN_MISSING:
        assert code == 2 and "invalid choice" in stderr, (
            f"`af {subcommand}` parses now: remove it from KNOWN_MISSING "
            f"({KNOWN_MISSING[subcommand]}) and replace the placeholder in docs/ci/"
        )
        assert "vars." in command.guard, f"{command.where}: guard the placeholder with an `if:`"
        return
    assert code == 0, f"{command.where}: af {' '.join(command.argv)}\n{stderr}"


def test_known_missing_commands_are_still_used() -> None:
    used = {command.argv[0] for command in COMMANDS}
    assert set(KNOWN_MISSING) <= used, "drop the entries no recipe uses"


def test_the_readme_lists_the_guide() -> None:
    assert "docs/ci/github-actions.md" in (ROOT / "README.md").read_text(encoding="utf-8")
