"""`af init` and `af upgrade` as a user runs them: real subprocesses, real git, no network."""

from __future__ import annotations

import shutil
from pathlib import Path

import git

from tests.conftest import EXAMPLE_REPO, AfResult, run_af

STARTER = {
    "templates/starter/1.0.0/template.yaml": """\
apiVersion: agentflow.dev/v1
kind: Template
metadata: {name: starter}
spec:
  version: 1.0.0
  parameters:
    - {name: team, type: string, required: true}
    - {name: temperature, type: number, default: 0.1, minimum: 0, maximum: 0.2}
  assets: ["*.yaml.j2"]
""",
    "templates/starter/1.0.0/agent.yaml.j2": """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: {{ team }}-writer}
spec:
  type: llm
  model: {provider: openai, name: gpt-4o-mini, temperature: {{ temperature }}}
""",
    "templates/starter/1.0.0/workflow.yaml.j2": """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: {{ team }}-answer}
spec:
  timeout: 1m
  initial_state: answer
  final_states: [answer]
  states:
    answer: {agent: {{ team }}-writer, prompt: "Answer: {% raw %}{{ input.q }}{% endraw %}"}
""",
}


def _git_source(root: Path) -> Path:
    repo = git.Repo.init(root)
    for path, text in STARTER.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    repo.index.add(list(STARTER))
    author = git.Actor("Test", "test@example.com")
    repo.index.commit("starter template", author=author, committer=author)
    # A working-tree edit that is not committed must not be read: HEAD is the source.
    (root / "templates/starter/1.0.0/agent.yaml.j2").write_text("broken: [", encoding="utf-8")
    return root


def test_init_from_a_git_repository_validates_cleanly(tmp_path: Path) -> None:
    source = _git_source(tmp_path / "source")
    target = tmp_path / "new-desk"
    result = run_af(
        "init", target, "--template", "starter@^1", "-p", "team=sales", "--source", source
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "starter 1.0.0" in result.stdout
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "af.yaml",
        "templates/starter/1.0.0/agent.yaml.j2",
        "templates/starter/1.0.0/template.yaml",
        "templates/starter/1.0.0/workflow.yaml.j2",
        "workflows/starter.yaml",
    ]
    validated = run_af("validate", target)
    assert validated.returncode == 0, validated.stdout
    assert "team: sales" in (target / "workflows/starter.yaml").read_text()


def test_init_checks_parameters_first_and_writes_nothing(tmp_path: Path) -> None:
    source = _git_source(tmp_path / "source")
    target = tmp_path / "new-desk"
    result = run_af(
        "init", target, "--template", "starter@1.0.0", "-p", "temperature=0.9", "--source", source
    )
    assert result.returncode == 1
    assert "AF704" in result.stdout and "AF707" in result.stdout
    assert not target.exists()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    source = _git_source(tmp_path / "source")
    target = tmp_path / "desk"
    (target / "workflows").mkdir(parents=True)
    (target / "workflows/starter.yaml").write_text("mine\n")
    result = run_af("init", target, "--template", "starter@^1", "-p", "team=a", "--source", source)
    assert result.returncode == 1
    assert "refusing to overwrite" in result.stderr
    assert (target / "workflows/starter.yaml").read_text() == "mine\n"
    assert not (target / "af.yaml").exists()


def test_init_reports_an_unsatisfiable_constraint(tmp_path: Path) -> None:
    source = _git_source(tmp_path / "source")
    result = run_af("init", tmp_path / "x", "--template", "starter@^2", "--source", source)
    assert result.returncode == 1
    assert "there are: 1.0.0" in result.stderr


def _upgrade_eu_support_to_2(repo: Path) -> AfResult:
    """2.0.0 renames escalation_threshold to confidence_threshold: the documented migration."""
    return run_af(
        "upgrade", "eu-support", "--to", "^2.0.0", repo,
        "-p", "confidence_threshold=0.75", "--unset", "escalation_threshold",
    )  # fmt: skip


def test_upgrade_rewrites_in_place_keeping_comments(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE_REPO, repo)
    instance = repo / "workflows/eu-support.yaml"
    before = instance.read_text()
    refused = run_af("upgrade", "eu-support", "--to", "^2.0.0", repo)
    assert refused.returncode == 1
    assert "AF705" in refused.stdout and "confidence_threshold" in refused.stdout
    assert instance.read_text() == before
    result = _upgrade_eu_support_to_2(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from 1.2.3 to 2.0.0" in result.stdout
    assert "+    lookup_customer:" in result.stdout
    plan_diff = result.stdout[result.stdout.index("af diff before → after") :]
    assert "state added: state lookup_customer: researcher / customer-lookup" in plan_diff
    assert "Cache keys invalidated: eu-support" in plan_diff
    after = instance.read_text()
    assert after.splitlines()[:2] == before.splitlines()[:2]  # the comments survive
    assert 'version: "^2.0.0"' in after
    assert "labels: {team: support, region: eu}" in after  # flow style survives
    assert "escalation_threshold" not in after
    assert run_af("validate", repo).returncode == 0
    assert not list(repo.rglob("*.tmp"))


def test_upgrade_that_would_break_the_repository_writes_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE_REPO, repo)
    rbac = repo / "policies" / "support-rbac.yaml"  # 2.0.0 adds a customer-lookup step...
    rbac.write_text(
        rbac.read_text().replace(
            "[kb-search, customer-lookup, sentiment]", "[kb-search, sentiment]"
        )
    )
    for uses_it in ("us-support", "priority-intake"):  # ...so nothing else may use it yet
        (repo / "workflows" / f"{uses_it}.yaml").unlink()
        for scenario in (repo / "scenarios").glob("*.yaml"):  # nor a test of it
            if f"workflow: {uses_it}\n" in scenario.read_text():
                scenario.unlink()
    researcher = repo / "agents" / "researcher.yaml"
    researcher.write_text(
        researcher.read_text().replace("[kb-search, customer-lookup]", "[kb-search]")
    )
    instance = repo / "workflows" / "eu-support.yaml"
    before = instance.read_text()
    assert run_af("validate", repo).returncode == 0
    result = _upgrade_eu_support_to_2(repo)
    assert result.returncode == 1
    assert "would not validate" in result.stdout + result.stderr
    assert instance.read_text() == before
