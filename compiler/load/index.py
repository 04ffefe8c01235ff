"""The `Index`: every valid resource by kind and name, the Project, and roles by name.   AF301 AF306

Input: validated `Resource`s. Output: the `Index` later stages look names up in, plus duplicate
names (reported at every later occurrence, with the first in the hint) and a missing or second
Project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, overload

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import FILE_START
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.agent import AgentSpec
from agentflow.compiler.model.policy import KindName, PolicySpec
from agentflow.compiler.model.project import ProjectSpec
from agentflow.compiler.model.scenario import ScenarioSpec
from agentflow.compiler.model.template import TemplateInstanceSpec, TemplateSpec
from agentflow.compiler.model.tool import ToolSpec
from agentflow.compiler.model.workflow import WorkflowSpec

PROJECT_FILE = "af.yaml"


@dataclass(frozen=True, slots=True)
class RoleRef:
    policy: Resource[PolicySpec]
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """Resources by kind and name: the first of each name wins; duplicates are reported."""

    project: Resource[ProjectSpec] | None
    resources: tuple[Resource[Any], ...]
    """Every valid resource, by file; templates of one name but several versions included."""
    by_kind: Mapping[str, Mapping[str, Resource[Any]]]
    roles: Mapping[str, RoleRef]
    invalid: frozenset[tuple[str, str]] = frozenset()
    """(kind, name) of resources that exist but failed the schema (and ``("Role", name)`` of the
    roles such a Policy defines): references to them are not reported as unknown, since their
    own errors say what is wrong."""

    # Each overload ties a kind to its spec type, so that mypy checks what a stage reads from,
    # say, `index.get("Agent", name).spec`. They hold because a resource's kind is the one its
    # model was validated as (`load.schema`).
    @overload
    def named(self, kind: Literal["Project"]) -> Mapping[str, Resource[ProjectSpec]]: ...
    @overload
    def named(self, kind: Literal["Agent"]) -> Mapping[str, Resource[AgentSpec]]: ...
    @overload
    def named(self, kind: Literal["Tool"]) -> Mapping[str, Resource[ToolSpec]]: ...
    @overload
    def named(self, kind: Literal["Workflow"]) -> Mapping[str, Resource[WorkflowSpec]]: ...
    @overload
    def named(self, kind: Literal["Policy"]) -> Mapping[str, Resource[PolicySpec]]: ...
    @overload
    def named(self, kind: Literal["Template"]) -> Mapping[str, Resource[TemplateSpec]]: ...
    @overload
    def named(
        self, kind: Literal["TemplateInstance"]
    ) -> Mapping[str, Resource[TemplateInstanceSpec]]: ...
    @overload
    def named(self, kind: Literal["Scenario"]) -> Mapping[str, Resource[ScenarioSpec]]: ...
    def named(self, kind: KindName) -> Mapping[str, Resource[Any]]:
        return self.by_kind.get(kind, MappingProxyType({}))

    @overload
    def get(self, kind: Literal["Project"], name: str) -> Resource[ProjectSpec] | None: ...
    @overload
    def get(self, kind: Literal["Agent"], name: str) -> Resource[AgentSpec] | None: ...
    @overload
    def get(self, kind: Literal["Tool"], name: str) -> Resource[ToolSpec] | None: ...
    @overload
    def get(self, kind: Literal["Workflow"], name: str) -> Resource[WorkflowSpec] | None: ...
    @overload
    def get(self, kind: Literal["Policy"], name: str) -> Resource[PolicySpec] | None: ...
    @overload
    def get(self, kind: Literal["Template"], name: str) -> Resource[TemplateSpec] | None: ...
    @overload
    def get(
        self, kind: Literal["TemplateInstance"], name: str
    ) -> Resource[TemplateInstanceSpec] | None: ...
    @overload
    def get(self, kind: Literal["Scenario"], name: str) -> Resource[ScenarioSpec] | None: ...
    def get(self, kind: KindName, name: str) -> Resource[Any] | None:
        return self.named(kind).get(name)

    @overload
    def all(self, kind: Literal["Project"]) -> tuple[Resource[ProjectSpec], ...]: ...
    @overload
    def all(self, kind: Literal["Agent"]) -> tuple[Resource[AgentSpec], ...]: ...
    @overload
    def all(self, kind: Literal["Tool"]) -> tuple[Resource[ToolSpec], ...]: ...
    @overload
    def all(self, kind: Literal["Workflow"]) -> tuple[Resource[WorkflowSpec], ...]: ...
    @overload
    def all(self, kind: Literal["Policy"]) -> tuple[Resource[PolicySpec], ...]: ...
    @overload
    def all(self, kind: Literal["Template"]) -> tuple[Resource[TemplateSpec], ...]: ...
    @overload
    def all(
        self, kind: Literal["TemplateInstance"]
    ) -> tuple[Resource[TemplateInstanceSpec], ...]: ...
    @overload
    def all(self, kind: Literal["Scenario"]) -> tuple[Resource[ScenarioSpec], ...]: ...
    def all(self, kind: KindName) -> tuple[Resource[Any], ...]:
        """Every resource of a kind, duplicates included, so each is still checked."""
        return tuple(r for r in self.resources if r.kind == kind)


def build_index(
    resources: tuple[Resource[Any], ...],
    report: Report,
    invalid: frozenset[tuple[str, str]] = frozenset(),
) -> Index:
    by_kind: dict[str, dict[str, Resource[Any]]] = {}
    for resource in sorted(resources, key=lambda r: r.file):
        same_kind = by_kind.setdefault(resource.kind, {})
        first = same_kind.get(resource.name)
        if first is None:
            same_kind[resource.name] = resource
        elif resource.kind not in ("Project", "Template"):  # templates: one name, many versions
            _report_duplicate(resource, first, report)
    project = _find_project(resources, report)
    roles = _collect_roles(by_kind.get("Policy", {}), report)
    return Index(
        project=project,
        resources=tuple(sorted(resources, key=lambda r: r.file)),
        by_kind=MappingProxyType({k: MappingProxyType(v) for k, v in by_kind.items()}),
        roles=MappingProxyType(roles),
        invalid=invalid - {(r.kind, r.name) for r in resources},
    )


def _report_duplicate(resource: Resource[Any], first: Resource[Any], report: Report) -> None:
    """Reported once, at the later definition (by path), with the first in the hint."""
    first_span = first.doc.span(("metadata", "name"))
    report.add(
        codes.DUPLICATE_NAME,
        resource.file,
        resource.doc.span(("metadata", "name")),
        f"{resource.kind} '{resource.name}' is already defined",
        hint=f"first defined at {first.file}:{first_span.line}:{first_span.column}; "
        "names are unique per kind",
    )


def _find_project(
    resources: tuple[Resource[Any], ...], report: Report
) -> Resource[ProjectSpec] | None:
    projects = sorted((r for r in resources if r.kind == "Project"), key=lambda r: r.file)
    if not projects:
        if any(d.file == PROJECT_FILE and d.severity == "error" for d in report.diagnostics()):
            return None  # af.yaml is there but broken: its own errors say why, not AF307
        report.add(
            codes.MISSING_PROJECT,
            PROJECT_FILE,
            FILE_START,
            "the repository has no Project resource",
            hint=f"create {PROJECT_FILE} with 'kind: Project' at the repository root",
        )
        return None
    for extra in projects[1:]:
        report.add(
            codes.DUPLICATE_PROJECT,
            extra.file,
            extra.doc.span(("kind",)),
            "a repository has exactly one Project",
            hint=f"the first is {projects[0].file}",
        )
    return projects[0]


def _collect_roles(
    policies: Mapping[str, Resource[PolicySpec]], report: Report
) -> dict[str, RoleRef]:
    roles: dict[str, RoleRef] = {}
    for policy in policies.values():
        for role in policy.spec.roles:
            first = roles.get(role)
            if first is not None:
                where = first.policy.doc.key_span(("spec", "roles", role))
                report.add(
                    codes.DUPLICATE_ROLE,
                    policy.file,
                    policy.doc.key_span(("spec", "roles", role)),
                    f"role '{role}' is also defined by policy '{first.policy.name}'",
                    hint=f"defined at {first.policy.file}:{where.line}; give each role one home",
                )
                continue
            roles[role] = RoleRef(policy, role)
    return roles
