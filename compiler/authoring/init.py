"""`af init`: a new, self-contained repository from a template.                   AF7xx

Input: a template source (a folder holding ``templates/``, or a git repository, local path or
URL, read with GitPython from its HEAD commit without a checkout), ``NAME@CONSTRAINT`` and
parameter values. Output: the files of a new repository, validated in memory before anything
is written, and written only where no file exists yet:

    af.yaml                              a Project admitting this compiler's major version
    workflows/<instance>.yaml            a TemplateInstance with the given parameters
    templates/<name>/<version>/...       the resolved template version, copied in

Copying the template in keeps the repository self-contained: it builds without the source.
The template's assets must render everything its workflows need (agents, tools, policies);
a template that relies on resources of its source repository does not validate on its own.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agentflow.compiler import __version__
from agentflow.compiler.diagnostics.report import Diagnostic, Report
from agentflow.compiler.load.schema import load_resource, validate_resources
from agentflow.compiler.load.yaml import load_documents
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import (
    MAX_FILE_BYTES,
    RESOURCE_SUFFIXES,
    TEMPLATE_SUFFIXES,
    Snapshot,
    SourceFile,
)
from agentflow.compiler.templates.params import bind_parameters
from agentflow.compiler.templates.registry import build_registry


@dataclass(frozen=True, slots=True)
class Initialized:
    files: tuple[str, ...]
    template: str
    version: str


@dataclass(frozen=True, slots=True)
class InitFailed:
    message: str
    diagnostics: tuple[Diagnostic, ...] = ()


def init_repository(
    target: Path,
    template: str,
    constraint: str,
    values: Mapping[str, Any],
    *,
    source: str = ".",
    instance: str | None = None,
) -> Initialized | InitFailed:
    """Create the repository at ``target``; see the module docstring."""
    snapshot = read_template_source(source)
    if isinstance(snapshot, InitFailed):
        return snapshot
    report = Report()
    documents = load_documents(snapshot.resource_files(), report)
    templates = [r for r in validate_resources(documents, report) if r.kind == "Template"]
    registry = build_registry(templates)
    chosen = registry.resolve(template, constraint)
    if chosen is None:
        versions = ", ".join(v.version for v in registry.versions(template)) or "none"
        return InitFailed(
            f"no version of template '{template}' in {source} satisfies {constraint!r}; "
            f"there are: {versions}"
        )
    name = instance or template
    instance_file = f"workflows/{name}.yaml"
    instance_text = _instance_text(name, template, constraint, values)
    report = Report()
    resource = load_resource(instance_file, instance_text, report)
    if resource is None or bind_parameters(resource, chosen.resource, report) is None:
        return InitFailed("the parameters do not fit the template", tuple(report.diagnostics()))
    files = {"af.yaml": _project_text(target), instance_file: instance_text.encode("utf-8")}
    prefix = chosen.folder + "/"
    for item in snapshot.files:
        if item.path.startswith(prefix):
            if item.problem is not None or (item.link and not item.link.startswith(prefix)):
                return InitFailed(f"{item.path}: a symbolic link out of the template's folder")
            copied = f"templates/{chosen.name}/{chosen.version}/{item.path[len(prefix) :]}"
            files[copied] = item.data
    check = validate_snapshot(
        Snapshot(str(target), tuple(SourceFile(p, d) for p, d in sorted(files.items())))
    )
    if check.report.has_errors():
        return InitFailed(
            "the new repository would not validate", tuple(check.report.diagnostics())
        )
    existing = sorted(p for p in files if (target / p).exists())
    if existing:
        listed = ", ".join(existing)
        return InitFailed(f"refusing to overwrite existing files in {target}: {listed}")
    for path, data in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("xb") as out:  # "x": never replace a file created meanwhile
            out.write(data)
    return Initialized(tuple(sorted(files)), chosen.name, chosen.version)


def read_template_source(source: str) -> Snapshot | InitFailed:
    """The template files of a folder, or of a git repository's HEAD commit."""
    path = Path(source)
    if path.is_dir() and not (path / ".git").exists():
        from agentflow.compiler.source.snapshot import read_folder

        snapshot = read_folder(path)
        files = tuple(f for f in snapshot.files if f.path.startswith("templates/"))
        return Snapshot(source, files)
    return _read_git(source)


def _read_git(source: str) -> Snapshot | InitFailed:
    import git

    try:
        if Path(source).is_dir():
            return _snapshot_of(git.Repo(source), source)
        with tempfile.TemporaryDirectory(prefix="af-init-") as scratch:
            return _snapshot_of(git.Repo.clone_from(source, scratch, bare=True), source)
    except (git.GitError, OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return InitFailed(f"cannot read templates from {source}: {first}")


def _snapshot_of(repo: Any, source: str) -> Snapshot:
    files = []
    for blob in repo.head.commit.tree.traverse():
        path = str(blob.path)
        if blob.type != "blob" or not path.startswith("templates/"):
            continue
        if not path.endswith(RESOURCE_SUFFIXES + TEMPLATE_SUFFIXES):
            continue
        if blob.mode == 0o120000:  # a symbolic link: never followed
            files.append(SourceFile(path, b"", "is a symbolic link"))
            continue
        files.append(SourceFile(path, blob.data_stream.read(MAX_FILE_BYTES + 1)))
    return Snapshot(source, tuple(sorted(files, key=lambda f: f.path)))


def _instance_text(name: str, template: str, constraint: str, values: Mapping[str, Any]) -> str:
    header = (
        "apiVersion: agentflow.dev/v1\n"
        "kind: TemplateInstance\n"
        f"metadata: {{name: {name}}}\n"
        "spec:\n"
        f"  template: {template}\n"
        f"  version: {_quote(constraint)}\n"
    )
    if not values:
        return header
    body = yaml.safe_dump(dict(values), default_flow_style=False, sort_keys=False)
    return header + "  parameters:\n" + "".join(f"    {line}\n" for line in body.splitlines())


def _project_text(target: Path) -> bytes:
    name = re.sub(r"[^a-z0-9-]+", "-", posixpath.basename(str(target.resolve())).lower())
    name = name.strip("-")[:63].strip("-") or "agentflow"
    major, minor = __version__.split(".")[:2]
    compatible = f">={major}.{minor} <{int(major) + 1}.0"
    return (
        "apiVersion: agentflow.dev/v1\n"
        "kind: Project\n"
        f"metadata: {{name: {name}}}\n"
        "spec:\n"
        "  version: 0.1.0\n"
        f"  afVersion: {_quote(compatible)}\n"
    ).encode()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
