"""`af diff`: the semantic diff of compiled plans, between git revisions or bundles."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentflow.bundle.read import read_bundle
from agentflow.compiler.build.write import build
from agentflow.compiler.review.diff import diff_bundles
from agentflow.compiler.review.formats import MARKER, render_json, render_markdown, render_text
from tests.conftest import EXAMPLE_REPO, FIXTURES, ROOT, run_af
from tests.golden import GOLDEN

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
INDEPENDENT = FIXTURES / "independent-safety" / "clean"
DIFF_SCHEMA = jsonschema.Draft7Validator(
    json.loads((ROOT / "schemas" / "diff.schema.json").read_text())
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def commit_copy(source: Path, repo: Path) -> Path:
    shutil.copytree(source, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def widened(tmp_path: Path) -> Path:
    """The independent repository, then a commit that widens a tool's domains (and the role
    that grants them) and changes a condition."""
    repo = commit_copy(INDEPENDENT, tmp_path / "repo")
    edit(
        repo / "tools" / "metrics-query.yaml",
        "network.http: [metrics.internal.example.org]",
        "network.http: [metrics.internal.example.org, metrics.partner.example.net]",
    )
    rbac = repo / "policies" / "incident-rbac.yaml"
    edit(rbac, '"*.internal.example.org"', '"*.internal.example.org", metrics.partner.example.net')
    edit(
        repo / "workflows" / "incident-triage.yaml",
        "output.confidence >= 0.7",
        "output.confidence >= 0.6",
    )
    git(repo, "commit", "-qam", "widen metrics-query, lower the triage threshold")
    return repo


def test_a_widened_domain_and_a_changed_condition_are_named(widened: Path) -> None:
    result = run_af("diff", "HEAD~1", "HEAD", "--repo", widened, "--format", "json")
    assert result.returncode == 0, result.stderr
    diff = result.json()
    assert not list(DIFF_SCHEMA.iter_errors(diff))
    permission = [e for e in diff["escalations"] if e["kind"] == "permission"]
    assert permission and all(e["tool"] == "metrics-query" for e in permission)
    assert "metrics.partner.example.net" in permission[0]["change"]
    assert permission[0]["source"].startswith("tools/metrics-query.yaml:")
    conditions = [c for w in diff["workflows"] for c in w["changes"] if c["what"] == "condition"]
    assert conditions == [
        {
            "where": conditions[0]["where"],
            "what": "condition",
            "old": conditions[0]["old"],
            "new": conditions[0]["old"].replace(">= 0.7", ">= 0.6"),
        }
    ]
    assert ">= 0.7" in conditions[0]["old"]
    failing = run_af("diff", "HEAD~1", "HEAD", "--repo", widened, "--fail-on", "escalation")
    assert failing.returncode == 1
    assert "metrics.partner.example.net" in failing.stdout


def test_a_revision_against_itself_is_empty(widened: Path) -> None:
    for args in (("--fail-on", "escalation"), ("--fail-on", "change"), ("--format", "json")):
        result = run_af("diff", "HEAD", "HEAD", "--repo", widened, *args)
        assert result.returncode == 0, result.stderr
    empty = run_af("diff", "HEAD", "HEAD", "--repo", widened, "--format", "json").json()
    assert empty["summary"]["empty"] and not empty["escalations"] and not empty["workflows"]


def test_fail_on_change_fires_on_a_change_that_widens_nothing(tmp_path: Path) -> None:
    repo = commit_copy(INDEPENDENT, tmp_path / "repo")
    edit(
        repo / "workflows" / "incident-triage.yaml",
        "output.confidence >= 0.7",
        "output.confidence >= 0.9",
    )
    git(repo, "commit", "-qam", "stricter")
    assert (
        run_af("diff", "HEAD~1", "HEAD", "--repo", repo, "--fail-on", "escalation").returncode == 0
    )
    assert run_af("diff", "HEAD~1", "HEAD", "--repo", repo, "--fail-on", "change").returncode == 1


def test_a_side_that_does_not_compile_is_reported_not_crashed(widened: Path) -> None:
    edit(widened / "agents" / "triager.yaml", "type: llm", "type: robot")
    git(widened, "commit", "-qam", "broken")
    result = run_af("diff", "HEAD~1", "HEAD", "--repo", widened)
    assert result.returncode == 1
    assert "HEAD (HEAD) does not compile" in result.stderr
    assert re.search(r"agents/triager.yaml:\d+:\d+: error\[AF2\d\d\]", result.stderr)
    assert "Traceback" not in result.stderr
    assert run_af("diff", "nope", "HEAD", "--repo", widened).returncode == 2


def _bundle(source: Path, out: Path) -> Path:
    result = build(source, out=out, environ=EPOCH)
    assert result.path is not None
    return result.path


def test_bundles_and_archives_diff_like_revisions(widened: Path, tmp_path: Path) -> None:
    head = _bundle(widened, tmp_path / "head")
    git(widened, "checkout", "-q", "HEAD~1")
    base_result = build(widened, out=tmp_path / "base", archive=True, environ=EPOCH)
    assert base_result.archive is not None
    from_revs = run_af("diff", "HEAD", "main", "--repo", widened, "--format", "json").json()
    from_bundles = run_af("diff", base_result.archive, head, "--format", "json").json()
    for diff in (from_revs, from_bundles):
        del diff["base"], diff["head"]
    assert from_bundles == from_revs


@pytest.mark.parametrize("damage", ["format", "digest"])
def test_a_foreign_or_edited_bundle_is_refused(damage: str, tmp_path: Path) -> None:
    bundle = _bundle(EXAMPLE_REPO, tmp_path / "dist")
    manifest = bundle / "bundle.json"
    if damage == "format":
        edit(
            manifest,
            '"formatVersion":"agentflow.bundle/v1"',
            '"formatVersion":"agentflow.bundle/v9"',
        )
    else:
        plan = bundle / "plans" / "support-triage.json"
        plan.write_bytes(plan.read_bytes().replace(b"escalate", b"escalatf"))
    result = run_af("diff", bundle, bundle)
    assert result.returncode == 1
    assert ("agentflow.bundle/v9" if damage == "format" else "does not match") in result.stderr
    assert "Traceback" not in result.stderr


# --- escalations, from profiles edited one field at a time ---------------------------------


def _pair_of_bundles(tmp_path: Path, change: Any) -> dict[str, Any]:
    base = tmp_path / "base"
    shutil.copytree(EXAMPLE_REPO, base)
    head = tmp_path / "head"
    shutil.copytree(EXAMPLE_REPO, head)
    change(head)
    diff = diff_bundles(
        read_bundle(_bundle(base, tmp_path / "b"), "base"),
        read_bundle(_bundle(head, tmp_path / "h"), "head"),
    )
    return render_json(diff)


@pytest.mark.parametrize(
    ("kind", "change", "source"),
    [
        (
            "timeout",
            lambda r: edit(r / "tools" / "kb-search.yaml", "timeout: 10s", "timeout: 50s"),
            "tools/kb-search.yaml:",
        ),
        (
            "memory",
            lambda r: edit(r / "tools" / "kb-search.yaml", "memory: 256Mi", "memory: 512Mi"),
            "tools/kb-search.yaml:",
        ),
        (
            "sandbox",
            lambda r: edit(
                r / "policies" / "support-rbac.yaml", "default: gvisor", "default: docker"
            ),
            "policies/support-rbac.yaml:",
        ),
        (
            "budget",
            lambda r: edit(r / "agents" / "researcher.yaml", "dollars: 8.0", "dollars: 80.0"),
            "agents/researcher.yaml:",
        ),
        (
            "tool-reachable",
            lambda r: edit(r / "agents" / "writer.yaml", "tools: []", "tools: [kb-search]"),
            "tools/kb-search.yaml:",
        ),
        (
            "rule-downgraded",
            lambda r: edit(
                r / "policies" / "org-guardrails.yaml",
                'message: "every tool must declare a timeout"\n      severity: error',
                'message: "every tool must declare a timeout"\n      severity: warning',
            ),
            None,
        ),
        (
            "rule-removed",
            lambda r: (r / "policies" / "org-guardrails.yaml").write_text(
                (r / "policies" / "org-guardrails.yaml")
                .read_text()
                .split("    - name: tools-declare-cost")[0]
            ),
            None,
        ),
    ],
)
def test_each_kind_of_escalation(
    kind: str, change: Any, source: str | None, tmp_path: Path
) -> None:
    diff = _pair_of_bundles(tmp_path, change)
    found = [e for e in diff["escalations"] if e["kind"] == kind]
    assert found, [e["kind"] for e in diff["escalations"]]
    if source is not None:
        assert all(e["source"].startswith(source) for e in found), found
    assert not list(DIFF_SCHEMA.iter_errors(diff))


def test_tightening_is_a_change_but_no_escalation(tmp_path: Path) -> None:
    diff = _pair_of_bundles(
        tmp_path,
        lambda r: edit(r / "tools" / "kb-search.yaml", "timeout: 10s", "timeout: 5s"),
    )
    assert diff["escalations"] == []
    assert [p["id"] for p in diff["profiles"]] == ["planner.kb-search", "researcher.kb-search"]
    assert diff["summary"]["cacheKeysInvalidated"] > 0


# --- markdown --------------------------------------------------------------------------------


def test_markdown_splits_under_the_comment_limit_with_one_marker_per_part(tmp_path: Path) -> None:
    diff = diff_bundles(
        read_bundle(_bundle(EXAMPLE_REPO, tmp_path / "a"), "base"),
        read_bundle(_bundle(INDEPENDENT, tmp_path / "b"), "head"),
    )
    whole = render_markdown(diff, {}, {})
    assert len(whole) == 1 and whole[0].startswith(MARKER.format(index=1, count=1))
    parts = render_markdown(diff, {}, {}, limit=1_500)
    assert len(parts) > 1
    for index, part in enumerate(parts, start=1):
        assert part.startswith(MARKER.format(index=index, count=len(parts)) + "\n")
        assert len(part) <= 1_500 + 200
    joined = "".join(parts)
    for plan in diff.plans:
        assert f"<code>{plan.name}</code>" in joined


DIFF_GOLDEN = GOLDEN / "diff-example"


def test_pictures_mark_the_changed_edges() -> None:
    text = (DIFF_GOLDEN / "expected" / "diff.md").read_text()
    (picture,) = re.findall(r"```mermaid\n(.*?)```", text, re.DOTALL)  # only the plan that changed
    edges = [line for line in picture.splitlines() if "--" in line and "|" in line or "-->" in line]
    changed = [i for i, line in enumerate(edges) if "0.6" in line]
    (style,) = [line for line in picture.splitlines() if "linkStyle" in line]
    assert style.split()[1] == ",".join(map(str, changed))


def _archive_with(tmp_path: Path, entries: dict[str, bytes], name: str = "evil.tar.gz") -> Path:
    import io
    import tarfile

    path = tmp_path / name
    with tarfile.open(path, "w:gz") as archive:
        for entry, data in entries.items():
            info = tarfile.TarInfo(entry)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: (tmp / "junk.tar.gz").write_bytes(os.urandom(4096)) and tmp / "junk.tar.gz",
        lambda tmp: _archive_with(tmp, {"../outside/bundle.json": b"{}"}),
        lambda tmp: _archive_with(tmp, {"/etc/bundle.json": b"{}"}),
        lambda tmp: _archive_with(tmp, {"b/bundle.json": b"not json"}),
        lambda tmp: _archive_with(tmp, {"b/bundle.json": b"[1, 2]"}),
        lambda tmp: _archive_with(tmp, {"b/plans/x.json": b"{}"}),
    ],
    ids=["random-bytes", "dot-dot", "absolute", "not-json", "not-an-object", "no-manifest"],
)
def test_hostile_bundles_are_refused_with_one_line(make: Any, tmp_path: Path) -> None:
    evil = make(tmp_path)
    result = run_af("diff", evil, evil)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("af diff: BASE: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "outside").exists()


@pytest.mark.parametrize("repo", [EXAMPLE_REPO, INDEPENDENT], ids=["examples", "independent"])
def test_a_cosmetic_rewrite_is_no_change(repo: Path, tmp_path: Path) -> None:
    """Reordered keys, no comments, new descriptions and labels, files moved: an empty diff."""
    from tests.rewrites import Reversed, rewrite_cosmetically

    rewrite_cosmetically(repo, tmp_path / "rewritten", Reversed, move=True)
    diff = diff_bundles(
        read_bundle(_bundle(repo, tmp_path / "a"), "base"),
        read_bundle(_bundle(tmp_path / "rewritten", tmp_path / "b"), "head"),
    )
    assert diff.empty, render_text(diff)


def test_a_node_inserted_early_in_a_tree_is_one_addition(tmp_path: Path) -> None:
    def insert(repo: Path) -> None:
        edit(
            repo / "workflows" / "priority-intake.yaml",
            "      - action: {agent: classifier, tool: sentiment}\n",
            "      - action: {agent: writer}\n"
            "      - action: {agent: classifier, tool: sentiment}\n",
        )
        edit(
            repo / "workflows" / "priority-intake.yaml",
            "size(output.items) > 0 && output.confidence >= 0.7",
            "size(output.items) > 1 && output.confidence >= 0.7",
        )

    diff = _pair_of_bundles(tmp_path, insert)
    (workflow,) = [w for w in diff["workflows"] if w["name"] == "priority-intake"]
    assert workflow["changes"] == [
        {"where": "root.children[0]", "what": "added", "old": None, "new": "action writer"},
        {
            "where": "root.children[2].branches[1].do.children[0].children[1]",
            "what": "condition",
            "old": "size(output.items) > 0 && output.confidence >= 0.7",
            "new": "size(output.items) > 1 && output.confidence >= 0.7",
        },
    ]
