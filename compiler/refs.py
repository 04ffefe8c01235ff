"""References: every name a resource uses resolves to a resource of the right kind.   AF3xx

Input: validated `Resource`s. Output: an `Index` (resources by kind and name, roles by name) for
the later stages, plus diagnostics: duplicate names (reported at every occurrence), a missing or
second Project, and unknown agents, tools, roles, workflows, templates and environments, each
with a did-you-mean hint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from . import codes
from .codes import Code
from .diagnostics import Report
from .load import Path
from .model import (
    ActionN,
    BtNode,
    BtWorkflow,
    ConditionalSelectorN,
    FsmWorkflow,
    LlmWorkflow,
    ParallelN,
    SelectorN,
    SequenceN,
)
from .schema import Resource
from .source import FILE_START
from .suggest import did_you_mean

PROJECT_FILE = "af.yaml"


@dataclass(frozen=True, slots=True)
class RoleRef:
    policy: Resource
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """Resources by kind and name: the first of each name wins; duplicates are reported."""

    project: Resource | None
    resources: tuple[Resource, ...]
    """Every valid resource, by file; templates of one name but several versions included."""
    by_kind: Mapping[str, Mapping[str, Resource]]
    roles: Mapping[str, RoleRef]
    invalid: frozenset[tuple[str, str]] = frozenset()
    """(kind, name) of resources that exist but failed the schema (and ``("Role", name)`` of the
    roles such a Policy defines): references to them are not reported as unknown, since their
    own errors say what is wrong."""

    def named(self, kind: str) -> Mapping[str, Resource]:
        return self.by_kind.get(kind, MappingProxyType({}))

    def get(self, kind: str, name: str) -> Resource | None:
        return self.named(kind).get(name)

    def all(self, kind: str) -> tuple[Resource, ...]:
        """Every resource of a kind, duplicates included, so each is still checked."""
        return tuple(r for r in self.resources if r.kind == kind)


def build_index(
    resources: tuple[Resource, ...],
    report: Report,
    invalid: frozenset[tuple[str, str]] = frozenset(),
) -> Index:
    by_kind: dict[str, dict[str, Resource]] = {}
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


def _report_duplicate(resource: Resource, first: Resource, report: Report) -> None:
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


def _find_project(resources: tuple[Resource, ...], report: Report) -> Resource | None:
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


def _collect_roles(policies: Mapping[str, Resource], report: Report) -> dict[str, RoleRef]:
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


def check_references(index: Index, report: Report) -> None:
    for agent in index.all("Agent"):
        for i, tool in enumerate(agent.spec.tools):
            _expect(index, "Tool", tool, agent, ("spec", "tools", i), codes.UNKNOWN_TOOL, report)
        role = agent.spec.role
        if role is not None and role not in index.roles and ("Role", role) not in index.invalid:
            report.add(
                codes.UNKNOWN_ROLE,
                agent.file,
                agent.doc.span(("spec", "role")),
                f"role '{role}' is not defined by any Policy",
                hint=did_you_mean(role, index.roles),
            )
    for policy in index.all("Policy"):
        for role_name, role in policy.spec.roles.items():
            for i, tool in enumerate(role.allowed_tools):
                _expect(
                    index,
                    "Tool",
                    tool,
                    policy,
                    ("spec", "roles", role_name, "allowedTools", i),
                    codes.UNKNOWN_TOOL,
                    report,
                )
        _check_environments(index, policy, report)
    for workflow in index.all("Workflow"):
        for path, agent_name, tool_name in workflow_steps(workflow):
            if (
                _expect(
                    index,
                    "Agent",
                    agent_name,
                    workflow,
                    (*path, "agent"),
                    codes.UNKNOWN_AGENT,
                    report,
                )
                and tool_name is not None
            ):
                _check_step_tool(index, workflow, path, agent_name, tool_name, report)
        spec = workflow.spec
        if isinstance(spec, LlmWorkflow) and spec.llm.fallback is not None:
            _expect(
                index,
                "Workflow",
                spec.llm.fallback,
                workflow,
                ("spec", "llm", "fallback"),
                codes.UNKNOWN_WORKFLOW,
                report,
            )
    for instance in index.all("TemplateInstance"):
        _expect(
            index,
            "Template",
            instance.spec.template,
            instance,
            ("spec", "template"),
            codes.UNKNOWN_TEMPLATE,
            report,
        )


def _check_step_tool(
    index: Index, workflow: Resource, path: Path, agent_name: str, tool_name: str, report: Report
) -> None:
    if not _expect(index, "Tool", tool_name, workflow, (*path, "tool"), codes.UNKNOWN_TOOL, report):
        return
    agent = index.named("Agent")[agent_name]
    if tool_name not in agent.spec.tools:
        span = agent.doc.key_span(("spec", "tools"))
        report.add(
            codes.TOOL_NOT_ON_AGENT,
            workflow.file,
            workflow.doc.span((*path, "tool")),
            f"agent '{agent_name}' does not list tool '{tool_name}'",
            hint=f"add it to the agent's tools at {agent.file}:{span.line}",
        )


def _check_environments(index: Index, policy: Resource, report: Report) -> None:
    sandbox = policy.spec.sandbox
    if sandbox is None or index.project is None:
        return
    environments = index.project.spec.environments
    for i, env in enumerate(sandbox.allow_process_in):
        if env not in environments:
            report.add(
                codes.UNKNOWN_ENVIRONMENT,
                policy.file,
                policy.doc.span(("spec", "sandbox", "allowProcessIn", i)),
                f"environment '{env}' is not defined by the Project",
                hint=did_you_mean(env, environments),
            )


def _expect(
    index: Index, kind: str, name: str, user: Resource, path: Path, code: Code, report: Report
) -> bool:
    known = index.named(kind)
    if name in known:
        return True
    if (kind, name) in index.invalid:
        return False  # defined, but broken: its own diagnostics say why
    report.add(
        code,
        user.file,
        user.doc.span(path),
        f"{kind.lower()} '{name}' is not defined",
        hint=did_you_mean(name, known),
    )
    return False


def workflow_steps(workflow: Resource) -> Iterator[tuple[Path, str, str | None]]:
    """Every step of a workflow as (path of the step, agent, tool)."""
    spec = workflow.spec
    if isinstance(spec, FsmWorkflow):
        for state_name, state in spec.states.items():
            yield ("spec", "states", state_name), state.agent, state.tool
    elif isinstance(spec, BtWorkflow):
        for path, node in bt_nodes(spec.root, ("spec", "root")):
            if isinstance(node, ActionN):
                yield (*path, "action"), node.action.agent, node.action.tool
    elif isinstance(spec, LlmWorkflow):
        yield ("spec", "llm"), spec.llm.agent, None


def bt_nodes(node: BtNode, path: Path, depth: int = 0) -> Iterator[tuple[Path, BtNode]]:
    """Every node of a behavior tree, depth first, with its document path."""
    yield path, node
    if depth > 256:  # the loader bounds nesting; this only guards the recursion
        return
    if isinstance(node, SequenceN):
        children = [((*path, "sequence", i), c) for i, c in enumerate(node.sequence)]
    elif isinstance(node, SelectorN):
        children = [((*path, "selector", i), c) for i, c in enumerate(node.selector)]
    elif isinstance(node, ParallelN):
        children = [
            ((*path, "parallel", "children", i), c) for i, c in enumerate(node.parallel.children)
        ]
    elif isinstance(node, ConditionalSelectorN):
        children = [
            ((*path, "conditional_selector", i, "do"), g.do)
            for i, g in enumerate(node.conditional_selector)
        ]
    else:
        children = []
    for child_path, child in children:
        yield from bt_nodes(child, child_path, depth + 1)
