"""Mini repositories for tests: a valid Project plus the few files a test is about."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from agentflow.compiler.diagnostics.report import Diagnostic
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder

PROJECT = """\
apiVersion: agentflow.dev/v1
kind: Project
metadata: {name: mini}
spec:
  version: 0.1.0
  afVersion: ">=0.1 <1.0"
  environments:
    dev: {sandbox: process, residency: "off"}
    prod: {sandbox: gvisor, residency: strict, region: eu-west-1}
"""

AGENT = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: writer}
spec:
  type: llm
  model: {provider: openai, name: gpt-4o-mini}
"""

Found = tuple[str, str, int, int]
"""(code, file, line, column): what a diagnostic says and where."""


def write_repo(
    root: Path, files: Mapping[str, str | bytes], *, project: str | None = PROJECT
) -> Path:
    """Write ``files`` (repo-relative path → text or bytes) below ``root``, with an af.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    if project is not None:
        (root / "af.yaml").write_text(project, encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def validate(root: Path, *, environment: str | None = None) -> list[Diagnostic]:
    """Every diagnostic `af validate` reports for the folder, sorted."""
    return validate_snapshot(read_folder(root), environment=environment).report.diagnostics()


def found(diagnostics: Iterable[Diagnostic]) -> list[Found]:
    return [(d.code, d.file, d.line, d.column) for d in diagnostics]


def check(root: Path, files: Mapping[str, str | bytes], **kwargs: str | None) -> list[Diagnostic]:
    """Write a mini repo and validate it."""
    return validate(write_repo(root, files, **kwargs))


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    """The one diagnostic reported; fails listing them all otherwise."""
    assert len(diagnostics) == 1, found(diagnostics)
    return diagnostics[0]
