"""Rendered assets → first-class resources in the index.                  AF1xx/AF2xx/AF7xx

Input: the `Index` of hand-written resources and the text rendered for each instance. Output:
a new `Index` holding both, plus the (kind, name) of what each instance produced. Each rendered
text goes through the same loader (`load.py`) and schema (`schema.py`) as a file would; its
document is filed under `diagnostics.rendered_label` and its positions are mapped back to the
asset, so every later stage reports at the asset line and names the instance without knowing
that the resource was rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import Span, YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.document import Document
from agentflow.compiler.load.index import Index, build_index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.schema import validate_document
from agentflow.compiler.load.yaml import is_resource, load_text
from agentflow.compiler.model.template import TemplateInstanceSpec
from agentflow.compiler.templates.positions import RenderMap
from agentflow.compiler.templates.render import Rendered

RENDERABLE_KINDS = ("Agent", "Tool", "Workflow", "Policy")
"""A template may not produce a Project or another template or instance: no recursion."""


@dataclass(frozen=True, slots=True)
class RenderedAsset:
    instance: Resource[TemplateInstanceSpec]
    rendered: Rendered


def admit_rendered(
    index: Index, outputs: Sequence[RenderedAsset], report: Report
) -> tuple[Index, Mapping[str, tuple[tuple[str, str], ...]]]:
    """Load, validate and index every rendered asset; collisions are reported, not indexed."""
    admitted: list[Resource[Any]] = []
    produced: dict[str, list[tuple[str, str]]] = {}
    taken: dict[tuple[str, str], Resource[Any]] = {
        (r.kind, r.name): r for r in reversed(index.resources)
    }
    for output in outputs:
        resource = _load(output, report)
        if resource is None:
            continue
        first = taken.get((resource.kind, resource.name))
        if first is not None:
            where = first.doc.span(("metadata", "name"))
            report.add(
                codes.RENDERED_NAME_TAKEN,
                resource.file,
                resource.doc.span(("metadata", "name")),
                f"{resource.kind} '{resource.name}' is already defined",
                hint=f"see {first.file}:{where.line}; give the instance a parameter that "
                "makes the name unique",
            )
            continue
        taken[(resource.kind, resource.name)] = resource
        admitted.append(resource)
        produced.setdefault(output.instance.file, []).append((resource.kind, resource.name))
    if not admitted:
        return index, {}
    expanded = build_index((*index.resources, *admitted), report, index.invalid)
    return expanded, {file: tuple(items) for file, items in produced.items()}


def _load(output: RenderedAsset, report: Report) -> Resource[Any] | None:
    rendered = output.rendered
    if not rendered.text.strip():
        return None  # an asset may render nothing, e.g. behind an {% if %}
    label = report.register_rendered(rendered.asset, output.instance.file)
    scratch = Report()
    document = load_text(label, rendered.text, scratch)
    positions = rendered.positions
    report.extend(
        replace(d, line=span.line, column=span.column)
        for d in scratch.diagnostics()
        for span in [positions.to_asset(Span(d.line, d.column))]
    )
    if document is None:
        return None
    document = _to_asset(document, positions, output.instance.file)
    if not is_resource(document.data):
        report.add(
            codes.NOT_A_RESOURCE,
            label,
            document.span(()),
            "the asset did not render an AgentFlow resource",
            hint="start it with 'apiVersion: agentflow.dev/v1' and a 'kind:'",
        )
        return None
    kind = document.data.get("kind")
    if kind in ("Project", "Template", "TemplateInstance"):
        report.add(
            codes.RENDERED_KIND,
            label,
            document.span(("kind",)),
            f"a template may not render a {kind}",
            hint="templates produce " + ", ".join(RENDERABLE_KINDS),
        )
        return None
    return validate_document(document, report)


def _to_asset(document: Document, positions: RenderMap, origin: str) -> Document:
    def mapped(spans: Mapping[YamlPath, Span]) -> dict[YamlPath, Span]:
        return {path: positions.to_asset(span) for path, span in spans.items()}

    return replace(
        document,
        value_spans=mapped(document.value_spans),
        key_spans=mapped(document.key_spans),
        origin=origin,
    )
