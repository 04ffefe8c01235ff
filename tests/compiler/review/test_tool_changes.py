"""`af diff` and tools: calling a tool differently is a change of the plans that reach it; a
host newly reached stays an escalation, through the profiles that reach it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from agentflow.bundle.read import read_bundle
from agentflow.compiler.build.write import build
from agentflow.compiler.review.diff import diff_bundles
from agentflow.compiler.review.formats import render_json, render_markdown, render_text
from tests.conftest import EXAMPLE_REPO, ROOT

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
DIFF_SCHEMA = jsonschema.Draft7Validator(
    json.loads((ROOT / "schemas" / "diff.schema.json").read_text())
)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _diff(tmp_path: Path, change: Callable[[Path], None]) -> Any:
    views = []
    for side in ("base", "head"):
        repo = tmp_path / side
        shutil.copytree(EXAMPLE_REPO, repo)
        if side == "head":
            change(repo)
        result = build(repo, out=tmp_path / f"dist-{side}", environ=EPOCH)
        assert result.path is not None, result.diagnostics
        views.append(read_bundle(result.path, side))
    return diff_bundles(*views)


def test_an_endpoint_and_a_header_moved_are_changes_of_the_plans_that_call_the_tool(
    tmp_path: Path,
) -> None:
    def change(repo: Path) -> None:
        tool = repo / "tools" / "refund-issue.yaml"
        _edit(tool, "/v1/refunds", "/v2/refunds")
        _edit(tool, "{secretRef: payments-token}", "{secretRef: payments-token-2}")

    diff = _diff(tmp_path, change)
    assert diff.escalations == ()  # same host, same profile: nothing widened
    assert [(t.name, t.status) for t in diff.tools] == [("refund-issue", "changed")]
    assert [(c.what, c.old, c.new) for c in diff.tools[0].changes] == [
        (
            "endpoint",
            "https://payments.internal.example.com/v1/refunds",
            "https://payments.internal.example.com/v2/refunds",
        ),
        ("header Authorization", "{secretRef: payments-token}", "{secretRef: payments-token-2}"),
    ]
    assert [(p.name, p.replans, p.moved_tools) for p in diff.plans] == [
        ("refund-request", True, ("refund-issue",))
    ]
    text = render_text(diff)
    assert "tools changed: refund-issue" in text
    assert (
        "endpoint: tool refund-issue: https://payments.internal.example.com/v1/refunds → " in text
    )
    assert "Tools changed" in render_markdown(diff, {}, {})[0]
    document = render_json(diff)
    assert not list(DIFF_SCHEMA.iter_errors(document))
    assert document["tools"][0]["changes"][0]["what"] == "endpoint"
    assert document["workflows"][0]["toolsChanged"] == ["refund-issue"]


def test_a_new_host_reached_is_still_an_escalation(tmp_path: Path) -> None:
    def change(repo: Path) -> None:
        tool = repo / "tools" / "refund-issue.yaml"
        _edit(tool, "payments.internal.example.com/v1", "ledger.internal.example.com/v1")
        _edit(
            tool,
            "network.http: [payments.internal.example.com]",
            "network.http: [ledger.internal.example.com]",
        )
        rbac = repo / "policies" / "support-rbac.yaml"
        _edit(
            rbac,
            "network.http: [payments.internal.example.com]",
            "network.http: [payments.internal.example.com, ledger.internal.example.com]",
        )

    diff = _diff(tmp_path, change)
    assert [t.name for t in diff.tools] == ["refund-issue"]
    escalations = [(e.kind, e.agent, e.tool, e.change) for e in diff.escalations]
    assert escalations == [
        (
            "permission",
            "refunder",
            "refund-issue",
            "gains network.http 'ledger.internal.example.com'",
        )
    ]
    assert not list(DIFF_SCHEMA.iter_errors(render_json(diff)))


def test_a_tool_no_plan_reaches_any_more_is_removed(tmp_path: Path) -> None:
    def change(repo: Path) -> None:
        (repo / "workflows" / "refund-request.yaml").unlink()
        for name in ("refund-approved", "refund-denied", "refund-waiting"):
            (repo / "scenarios" / f"{name}.yaml").unlink()

    diff = _diff(tmp_path, change)
    assert [(t.name, t.status, t.changes) for t in diff.tools] == [("refund-issue", "removed", ())]
    assert "refund-issue (removed)" in render_text(diff)
