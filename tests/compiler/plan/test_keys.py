"""Plan-cache keys move only when meaning moves, and exactly for the plans a change reaches.

Each property runs on the example and on the two repositories written independently from
SPEC.md. What a change should reach is read from the plans themselves (which steps bind which
tool, which plan falls back to which), not from the key code under test.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentflow.bundle.plan_json import plan_to_json
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.compiler.plan.keys import compatibility_line, plan_key_inputs
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO, FIXTURES
from tests.rewrites import Reversed, rewrite_cosmetically

REPOS = {
    "examples": EXAMPLE_REPO,
    "independent": FIXTURES / "independent" / "clean",
    "independent-safety": FIXTURES / "independent-safety" / "clean",
}


def compiled(root: Path, environment: str | None = None) -> Validation:
    validation = validate_snapshot(read_folder(root), environment=environment)
    assert not validation.report.has_errors(), validation.report.diagnostics()
    return validation


def keys_of(root: Path, environment: str | None = None) -> dict[str, str]:
    validation = compiled(root, environment)
    assert validation.target.requested == environment
    inputs = plan_key_inputs(
        validation.plans,
        validation.pairs,
        validation.profiles,
        validation.index,
        validation.templates,
        validation.target.spec,
        tools=validation.tools,
    )
    return {name: item.key for name, item in inputs.items()}


def _bindings(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if {"agent", "tool", "tools", "profile"} <= value.keys() else []
        return found + [b for item in value.values() for b in _bindings(item)]
    if isinstance(value, list):
        return [b for item in value for b in _bindings(item)]
    return []


def plans_reaching(root: Path, tool: str) -> set[str]:
    """Plans with a step that calls ``tool`` or may call it, and the LLM plans falling back
    to one of those."""
    documents = {name: plan_to_json(plan) for name, plan in compiled(root).plans.items()}
    direct = {
        name
        for name, document in documents.items()
        if any(b["tool"] == tool or tool in b["tools"] for b in _bindings(document))
    }
    fallbacks = {
        name
        for name, document in documents.items()
        if document.get("llm", {}).get("fallback") in direct
    }
    return direct | fallbacks


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {name for name in before if before[name] != after[name]}


@pytest.mark.parametrize("repo", sorted(REPOS))
@pytest.mark.parametrize("dumper", [yaml.SafeDumper, Reversed])
def test_cosmetic_edits_and_moves_change_no_key(repo: str, dumper: Any, tmp_path: Path) -> None:
    rewrite_cosmetically(REPOS[repo], tmp_path, dumper, move=True)
    assert keys_of(tmp_path) == keys_of(REPOS[repo])


def _tools(root: Path) -> list[str]:
    return sorted(compiled(root).index.named("Tool"))


@pytest.mark.parametrize("repo", sorted(REPOS))
def test_a_tool_timeout_changes_exactly_the_keys_of_the_plans_that_reach_it(
    repo: str, tmp_path: Path
) -> None:
    root = REPOS[repo]
    base = keys_of(root)
    for tool in _tools(root):
        copy = tmp_path / tool
        shutil.copytree(root, copy)
        resource = compiled(copy).index.get("Tool", tool)
        assert resource is not None
        path = copy / resource.file
        text = path.read_text()
        edited = re.sub(r"(?m)^  timeout: \S+", "  timeout: 3s", text, count=1)
        if edited == text or "timeout: 3s" in text:
            edited = re.sub(r"(?m)^  timeout: \S+", "  timeout: 4s", text, count=1)
        assert edited != text, f"{tool} has no timeout to change"
        path.write_text(edited)
        assert changed(base, keys_of(copy)) == plans_reaching(root, tool), tool


def test_a_condition_changes_its_plan_and_the_plans_falling_back_to_it(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    flow = tmp_path / "repo" / "workflows" / "support-triage.yaml"
    flow.write_text(
        flow.read_text().replace("output.confidence >= 0.8", "output.confidence >= 0.9")
    )
    assert changed(keys_of(EXAMPLE_REPO), keys_of(tmp_path / "repo")) == {
        "support-triage",
        "smart-support",  # its LLM planner falls back to support-triage
    }


def test_a_template_parameter_changes_only_its_instance(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    instance = tmp_path / "repo" / "workflows" / "eu-support.yaml"
    text = instance.read_text()
    assert "0.75" in text
    instance.write_text(text.replace("0.75", "0.7"))
    assert changed(keys_of(EXAMPLE_REPO), keys_of(tmp_path / "repo")) == {"eu-support"}


def test_a_role_grant_changes_the_plans_of_its_agents(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    rbac = tmp_path / "repo" / "policies" / "support-rbac.yaml"
    rbac.write_text(
        rbac.read_text().replace(
            "allowedTools: [send-email, ticket-create]",
            "allowedTools: [send-email, ticket-create, sentiment]",
        )
    )
    notifier_plans = {
        name
        for name, plan in compiled(EXAMPLE_REPO).plans.items()
        if any(b["agent"] == "notifier" for b in _bindings(plan_to_json(plan)))
    }
    fallbacks = {"smart-support"} if "support-triage" in notifier_plans else set()
    assert changed(keys_of(EXAMPLE_REPO), keys_of(tmp_path / "repo")) == (
        notifier_plans | fallbacks
    )


def test_environment_toggles_reach_only_plans_whose_conditions_read_env(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    flow = tmp_path / "repo" / "workflows" / "support-triage.yaml"
    flow.write_text(
        flow.read_text().replace(
            "output.confidence >= 0.8", "output.confidence >= 0.8 && env.fast_path == true"
        )
    )
    project = tmp_path / "repo" / "af.yaml"
    with_toggle = project.read_text().replace(
        'residency: "off"\n', 'residency: "off"\n      toggles: {fast_path: true}\n', 1
    )
    assert with_toggle != project.read_text()
    project.write_text(with_toggle)
    toggled = keys_of(tmp_path / "repo", "dev")
    project.write_text(with_toggle.replace("fast_path: true", "fast_path: false"))
    reads_env = {"support-triage", "smart-support"}  # smart-support falls back to it
    assert changed(toggled, keys_of(tmp_path / "repo", "dev")) == reads_env


def test_keys_hold_no_path_and_name_the_compiler_line(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "a" / "b" / "repo")
    assert keys_of(tmp_path / "a" / "b" / "repo") == keys_of(EXAMPLE_REPO)
    assert compatibility_line("0.1.7") == "0.1" and compatibility_line("2.3.0") == "2"


@pytest.mark.parametrize("repo", sorted(REPOS))
def test_a_tool_endpoint_changes_exactly_the_keys_of_the_plans_that_reach_it(
    repo: str, tmp_path: Path
) -> None:
    """How a tool is called (tools/<name>.json) is a key input: an endpoint, an MCP server or
    an entrypoint moved re-plans the plans that may call the tool, and only those."""
    root = REPOS[repo]
    base = keys_of(root)
    for tool in _tools(root):
        copy = tmp_path / tool
        shutil.copytree(root, copy)
        resource = compiled(copy).index.get("Tool", tool)
        assert resource is not None
        path = copy / resource.file
        text = path.read_text()
        edited = re.sub(r"(https://[^/\s,}]+)", r"\1/moved", text, count=1)
        if edited == text:
            edited = re.sub(r'(entrypoint: "?[\w.]+):', r"\1_moved:", text, count=1)
        assert edited != text, f"{tool} has no endpoint, server or entrypoint to move"
        path.write_text(edited)
        assert changed(base, keys_of(copy)) == plans_reaching(root, tool), tool


def test_a_header_changes_the_keys_of_the_plans_that_call_its_tool(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    tool = tmp_path / "repo" / "tools" / "refund-issue.yaml"
    tool.write_text(tool.read_text().replace("{secretRef: payments-token}", "{secretRef: other}"))
    assert changed(keys_of(EXAMPLE_REPO), keys_of(tmp_path / "repo")) == plans_reaching(
        EXAMPLE_REPO, "refund-issue"
    )
    assert plans_reaching(EXAMPLE_REPO, "refund-issue") == {"refund-request"}


def test_scenarios_change_no_key(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    shutil.rmtree(tmp_path / "repo" / "scenarios")
    assert keys_of(tmp_path / "repo") == keys_of(EXAMPLE_REPO)
