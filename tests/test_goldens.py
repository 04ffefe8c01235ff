"""Golden outputs: every folder under tests/golden/ is a case, compared byte for byte.

A case is ``tests/golden/<case>/case.toml``, which says which command runs on which repository,
and ``expected/``, what that command must write. ``repo`` is a path from the top of this
repository; without it the case's own ``repo/`` is the mini repository. The commands:

- ``build``: the bundle of the repository copied outside git, with SOURCE_DATE_EPOCH fixed; each
  file pretty-printed so that a review can read it (and checked to pin every canonical byte);
- ``graph``: `af graph` of every workflow, as ``<workflow>.mmd`` (Mermaid) and ``<workflow>.dot``;
- ``diff``: the diff of the repository's bundle against that of a copy with the case's ``[[edit]]``s
  applied (``file``, ``old``, ``new``: the first ``old`` becomes ``new``), labelled as ``base`` and
  ``head`` say, as ``diff.md``, ``diff.txt`` and ``diff.json``.

A mismatch prints a unified diff; ``pytest --update-golden`` rewrites ``expected/`` instead and is
refused when CI is set (tests/conftest.py), so that in CI a golden can always fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from agentflow.bundle.read import read_bundle
from agentflow.compiler.build.write import build
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.plan.compile import compile_plans
from agentflow.compiler.review.diff import diff_bundles
from agentflow.compiler.review.formats import render_json, render_markdown, render_text
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import ROOT, run_af
from tests.golden import GOLDEN, check_golden

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
GRAPH_FORMATS = {"mermaid": "mmd", "dot": "dot"}
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


@dataclass(frozen=True)
class Edit:
    """One textual change to a file of the head side of a ``diff`` case."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Case:
    name: str
    command: str
    repo: Path
    base: str = "base"
    head: str = "head"
    edits: tuple[Edit, ...] = ()


def load_case(name: str) -> Case:
    """``tests/golden/<name>/case.toml``, read strictly: a typo fails the case, never skips it."""
    folder = GOLDEN / name
    path = folder / "case.toml"
    assert path.is_file(), f"{folder.relative_to(ROOT)} has no case.toml"
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    command = data.pop("command", None)
    assert command in RUNNERS, f"{path}: command {command!r} is not one of {sorted(RUNNERS)}"
    repo = ROOT / data.pop("repo") if "repo" in data else folder / "repo"
    assert repo.is_dir(), f"{path}: no repository at {repo}"
    edits = tuple(Edit(**edit) for edit in data.pop("edit", []))
    labels = {key: data.pop(key) for key in ("base", "head") if key in data}
    assert not data, f"{path}: unknown keys {sorted(data)}"
    return Case(name, command, repo, edits=edits, **labels)


def _files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _bundle(source: Path, out: Path) -> Path:
    result = build(source, out=out, environ=EPOCH)
    assert result.path is not None
    return result.path


def run_build(case: Case, tmp_path: Path) -> dict[str, str]:
    """The bundle, byte for byte; goldens are pretty-printed so that a review can read them."""
    source = tmp_path / "src" / case.repo.name  # outside git: no commit in the manifest
    shutil.copytree(case.repo, source)
    actual = {}
    for path, data in _files_of(_bundle(source, tmp_path / "dist")).items():
        pretty = json.dumps(json.loads(data), indent=2, sort_keys=True, ensure_ascii=False)
        assert rfc8785.dumps(json.loads(pretty)) == data  # the golden pins every byte
        actual[path] = pretty + "\n"
    return actual


def run_graph(case: Case, tmp_path: Path) -> dict[str, str]:
    """`af graph` of each workflow the repository compiles, in every format."""
    validation = validate_snapshot(read_folder(case.repo))
    assert not validation.report.has_errors()
    workflows = sorted(compile_plans(validation.index, validation.conditions, validation.report))
    actual = {}
    for workflow in workflows:
        for fmt, suffix in GRAPH_FORMATS.items():
            result = run_af("graph", workflow, case.repo, "--format", fmt)
            assert (result.returncode, result.stderr) == (0, ""), result
            actual[f"{workflow}.{suffix}"] = result.stdout
    return actual


def run_diff(case: Case, tmp_path: Path) -> dict[str, str]:
    """Markdown, text and JSON of the case's change to its repository."""
    head = tmp_path / "head"
    shutil.copytree(case.repo, head)
    for edit in case.edits:
        path = head / edit.file
        text = path.read_text()
        assert edit.old in text, f"{edit.old!r} not in {path}"
        path.write_text(text.replace(edit.old, edit.new, 1))
    base_view = read_bundle(_bundle(case.repo, tmp_path / "b"), case.base)
    head_view = read_bundle(_bundle(head, tmp_path / "h"), case.head)
    diff = diff_bundles(base_view, head_view)
    return {
        "diff.md": "\n".join(render_markdown(diff, head_view.plans, base_view.plans)),
        "diff.txt": render_text(diff),
        "diff.json": json.dumps(render_json(diff), indent=2, sort_keys=True, ensure_ascii=False)
        + "\n",
    }


RUNNERS: dict[str, Callable[[Case, Path], dict[str, str]]] = {
    "build": run_build,
    "graph": run_graph,
    "diff": run_diff,
}


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, tmp_path: Path, update_golden: bool) -> None:
    case = load_case(name)
    actual = RUNNERS[case.command](case, tmp_path)
    check_golden(
        GOLDEN / name / "expected", actual, update=update_golden, test="tests/test_goldens.py"
    )


def test_update_golden_is_refused_in_ci() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--update-golden", "tests/test_goldens.py"],
        cwd=ROOT,
        env={"CI": "true", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 4  # pytest's usage error: nothing ran, nothing was rewritten
    assert "--update-golden is refused when CI is set" in result.stderr
