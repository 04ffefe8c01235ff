"""`af upgrade`: move one TemplateInstance to another template version.           AF7xx

Input: a repository folder, an instance name, a version constraint and parameter edits.
Output: the instance file rewritten in place (ruamel.yaml round-trip: comments, key order and
flow style survive; written to a temporary file, then `os.replace`), a unified diff of the
rendered resources, old version against new, and the `af diff` of the compiled plans. Nothing
is written unless the new version resolves, its parameters check, every asset renders and the
repository gains no error.
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agentflow.compiler.diagnostics.report import Diagnostic, Report
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.schema import load_resource
from agentflow.compiler.model.template import TemplateInstanceSpec
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.compiler.source.read import read_snapshot
from agentflow.compiler.source.snapshot import Snapshot, SourceFile
from agentflow.compiler.templates.params import Value, bind_parameters
from agentflow.compiler.templates.registry import (
    Registry,
    TemplateVersion,
    build_registry,
    render_instance,
)


@dataclass(frozen=True, slots=True)
class Upgrade:
    file: str
    old_version: str
    new_version: str
    diff: str
    """Unified diff of the rendered resources, old version against new."""
    plan_diff: str
    """`af diff` of the compiled plans, before against after (text); empty when the repository
    had errors before the upgrade, so there was no plan to compare with."""


@dataclass(frozen=True, slots=True)
class UpgradeFailed:
    message: str
    diagnostics: tuple[Diagnostic, ...] = ()


def upgrade_instance(
    root: Path,
    name: str,
    constraint: str,
    *,
    set_values: Mapping[str, Any] | None = None,
    unset: Sequence[str] = (),
    write: bool = True,
) -> Upgrade | UpgradeFailed:
    """Rewrite instance ``name`` under ``root`` to ``constraint``; see the module docstring."""
    snapshot = read_snapshot(root)
    validation = validate_snapshot(snapshot)
    instance = validation.index.get("TemplateInstance", name)
    if instance is None:
        known = ", ".join(sorted(validation.index.named("TemplateInstance"))) or "none"
        return UpgradeFailed(f"no TemplateInstance named '{name}' (instances: {known})")
    registry = build_registry(validation.index.all("Template"))
    old = registry.resolve(instance.spec.template, instance.spec.version)
    new = registry.resolve(instance.spec.template, constraint)
    if new is None:
        return UpgradeFailed(_unsatisfiable(registry, instance.spec.template, constraint))
    text = _edited(root / instance.file, constraint, set_values or {}, unset)
    report = Report()
    edited = load_resource(instance.file, text, report)
    values = bind_parameters(edited, new.resource, report) if edited is not None else None
    if edited is None or values is None:
        return UpgradeFailed(
            f"{instance.file} does not fit {new.name} {new.version}",
            tuple(report.diagnostics()),
        )
    files = {f.path: f for f in snapshot.files}
    after = _rendered(edited, new, values, files, report)
    if report.has_errors():
        problems = tuple(report.diagnostics())
        return UpgradeFailed(f"{new.name} {new.version} does not render", problems)
    before = ""
    if old is not None:
        old_values = bind_parameters(instance, old.resource, Report())
        if old_values is not None:
            before = _rendered(instance, old, old_values, files, Report())
    old_version = old.version if old is not None else instance.spec.version
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"{name} @ {new.name} {old_version}",
            f"{name} @ {new.name} {new.version}",
        )
    )
    moved = _moved_plans(validation, snapshot, instance.file, text)
    if isinstance(moved, UpgradeFailed):
        return moved
    if write:
        _write_atomically(root / instance.file, text)
    return Upgrade(instance.file, old_version, new.version, diff, moved)


def _moved_plans(
    before: Validation, snapshot: Snapshot, file: str, text: str
) -> str | UpgradeFailed:
    """The plan diff the upgrade makes; refuses an upgrade that adds errors to the repository."""
    from agentflow.compiler.review.diff import diff_bundles
    from agentflow.compiler.review.formats import render_text
    from agentflow.compiler.review.sides import compiled_view

    edited = tuple(
        replace(f, data=text.encode("utf-8")) if f.path == file else f for f in snapshot.files
    )
    after = validate_snapshot(replace(snapshot, files=edited))
    known = {_identity(d) for d in before.report.diagnostics()}
    added = tuple(
        d for d in after.report.diagnostics() if d.severity == "error" and _identity(d) not in known
    )
    if added:
        return UpgradeFailed("the upgraded repository would not validate", added)
    if before.report.has_errors():
        return ""
    return render_text(diff_bundles(compiled_view(before, "before"), compiled_view(after, "after")))


def _identity(diagnostic: Diagnostic) -> tuple[str, str, int, str]:
    return (diagnostic.code, diagnostic.file, diagnostic.line, diagnostic.message)


def _unsatisfiable(registry: Registry, template: str, constraint: str) -> str:
    versions = ", ".join(v.version for v in registry.versions(template)) or "none"
    return f"no version of template '{template}' satisfies {constraint!r}; there are: {versions}"


def _edited(
    path: Path, constraint: str, set_values: Mapping[str, Any], unset: Sequence[str]
) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: comments, order and flow style are kept
    yaml.preserve_quotes = True
    data = yaml.load(path.read_text(encoding="utf-8"))
    spec = data["spec"]
    spec["version"] = _quoted(constraint)
    if set_values or unset:
        parameters = spec.setdefault("parameters", {})
        for key in unset:
            parameters.pop(key, None)
        for key, value in set_values.items():
            parameters[key] = value
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _quoted(text: str) -> object:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(text)


def _rendered(
    instance: Resource[TemplateInstanceSpec],
    template: TemplateVersion,
    values: Mapping[str, Value],
    files: Mapping[str, SourceFile],
    report: Report,
) -> str:
    outputs = render_instance(instance, template, values, files, report)
    return "".join(
        f"# {o.rendered.asset}\n{o.rendered.text}"
        + ("" if o.rendered.text.endswith("\n") else "\n")
        for o in outputs
    )


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
