"""Roles and limits: default deny, checked before anything runs.   AF6xx

Input: the `Index` and the policies in force (the repository's and the selected packs').
Output: diagnostics only. Every tool an agent lists must be allowed by the
agent's role, and every permission the tool needs must be granted by that role (an MCP tool
needs its server's host without declaring it). Policy `limits` cap tool timeouts, memory and
retries; a value above a limit is reported where it is written, with the limit's place in the
hint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.codes import Code
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index, RoleRef
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.agent import AgentSpec
from agentflow.compiler.model.base import Retry
from agentflow.compiler.model.policy import PolicySpec, Role
from agentflow.compiler.model.tool import McpTool, ToolSpec
from agentflow.compiler.model.units import duration_ms, quantity
from agentflow.compiler.model.walk import walk_tree
from agentflow.compiler.model.workflow import ActionN, BtWorkflow, FsmWorkflow, State, WorkflowSpec
from agentflow.compiler.policy.grants import mcp_host, ungranted


def check_policies(
    index: Index, policies: tuple[Resource[PolicySpec], ...], report: Report
) -> None:
    for agent in index.all("Agent"):
        _check_agent_grants(index, agent, report)
    _check_limits(index, policies, report)


# --- grants --------------------------------------------------------------------------------


def _check_agent_grants(index: Index, agent: Resource[AgentSpec], report: Report) -> None:
    tools = agent.spec.tools
    if not tools:
        return
    if agent.spec.role is None:
        report.add(
            codes.NO_ROLE,
            agent.file,
            agent.doc.key_span(("spec", "tools")),
            f"agent '{agent.name}' lists tools but has no role, so it is granted nothing",
            hint="set spec.role to a role that a Policy defines",
        )
        return
    role_ref = index.roles.get(agent.spec.role)
    if role_ref is None:
        return  # AF303 already says the role is unknown
    role: Role = role_ref.policy.spec.roles[role_ref.name]
    for i, tool_name in enumerate(tools):
        tool = index.get("Tool", tool_name)
        if tool is None:
            continue  # AF302
        if tool_name not in role.allowed_tools:
            report.add(
                codes.TOOL_NOT_ALLOWED,
                agent.file,
                agent.doc.span(("spec", "tools", i)),
                f"role '{role_ref.name}' does not allow tool '{tool_name}'",
                hint=f"add it to allowedTools at {role_place(role_ref, 'allowedTools')}",
            )
            continue
        _check_needs(agent, tool, role_ref, role, report)


def _check_needs(
    agent: Resource[AgentSpec], tool: Resource[ToolSpec], ref: RoleRef, role: Role, report: Report
) -> None:
    for name, need, path in tool_needs(tool):
        missing = ungranted(name, need, role.permissions.get(name))
        if not missing:
            continue
        items = ", ".join(f"'{m}'" for m in missing) if missing != (name,) else ""
        what = f"{name} {items}".strip()
        report.add(
            codes.PERMISSION_NOT_GRANTED,
            tool.file,
            tool.doc.span(path),
            f"tool '{tool.name}' needs {what}, which role '{ref.name}' (of agent "
            f"'{agent.name}') does not grant",
            hint=f"grant it at {role_place(ref, 'permissions')}, or narrow what the tool needs",
        )


def tool_needs(tool: Resource[ToolSpec]) -> Iterator[tuple[str, object, YamlPath]]:
    """What a tool needs: its declared permissions, plus its MCP server's host."""
    spec = tool.spec
    for name, value in spec.permissions.items():
        if name != "none":
            yield name, value, ("spec", "permissions", name)
    if isinstance(spec, McpTool):
        host = mcp_host(spec.mcp.server)
        if host is not None:
            yield "network.http", [host], ("spec", "mcp", "server")


def role_place(ref: RoleRef, field: str) -> str:
    path = ("spec", "roles", ref.name, field)
    span = ref.policy.doc.key_span(path)
    return f"{ref.policy.file}:{span.line} (policy '{ref.policy.name}', role '{ref.name}')"


# --- limits --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    value: Decimal
    text: str
    policy: Resource[PolicySpec]
    path: YamlPath

    def where(self) -> str:
        span = self.policy.doc.span(self.path)
        return f"{self.policy.file}:{span.line} (policy '{self.policy.name}')"


def strictest(
    policies: tuple[Resource[PolicySpec], ...], field: str, measure: Callable[[Any], Decimal]
) -> Limit | None:
    """The lowest limit any policy sets for ``field``: every policy applies repo-wide."""
    best: Limit | None = None
    for policy in policies:
        limits = policy.spec.limits
        raw = None if limits is None else getattr(limits, field)
        if limits is None or raw is None:
            continue
        value = measure(raw)
        if best is None or value < best.value:
            alias = type(limits).model_fields[field].alias or field
            best = Limit(value, str(raw), policy, ("spec", "limits", alias))
    return best


def timeout_limit(policies: tuple[Resource[PolicySpec], ...]) -> Limit | None:
    return strictest(policies, "max_tool_timeout", lambda raw: Decimal(duration_ms(raw)))


def memory_limit(policies: tuple[Resource[PolicySpec], ...]) -> Limit | None:
    return strictest(policies, "max_memory", quantity)


def retries_limit(policies: tuple[Resource[PolicySpec], ...]) -> Limit | None:
    return strictest(policies, "max_retries", Decimal)


def _check_limits(index: Index, policies: tuple[Resource[PolicySpec], ...], report: Report) -> None:
    timeout = timeout_limit(policies)
    memory = memory_limit(policies)
    retries = retries_limit(policies)
    for tool in index.all("Tool"):
        spec = tool.spec
        if timeout and spec.timeout and duration_ms(spec.timeout) > timeout.value:
            _over(
                codes.TIMEOUT_OVER_LIMIT,
                tool,
                ("spec", "timeout"),
                spec.timeout,
                "maxToolTimeout",
                timeout,
                report,
            )
        memory_value = spec.resources.memory if spec.resources else None
        if memory and memory_value and quantity(memory_value) > memory.value:
            _over(
                codes.MEMORY_OVER_LIMIT,
                tool,
                ("spec", "resources", "memory"),
                memory_value,
                "maxMemory",
                memory,
                report,
            )
    if retries is None:
        return
    for resource, path, retry in _retries(index):
        if retry.max_attempts - 1 > retries.value:
            _over(
                codes.RETRIES_OVER_LIMIT,
                resource,
                (*path, "maxAttempts"),
                f"{retry.max_attempts} attempts ({retry.max_attempts - 1} retries)",
                "maxRetries",
                retries,
                report,
            )


def _retries(index: Index) -> Iterator[tuple[Resource[object], YamlPath, Retry]]:
    for agent in index.all("Agent"):
        if agent.spec.retry is not None:
            yield agent, ("spec", "retry"), agent.spec.retry
    for workflow in index.all("Workflow"):
        for path, step in _steps_with_retry(workflow):
            yield workflow, (*path, "retry"), step


def _steps_with_retry(workflow: Resource[WorkflowSpec]) -> Iterator[tuple[YamlPath, Retry]]:
    spec = workflow.spec
    if isinstance(spec, FsmWorkflow):
        for name, state in spec.states.items():
            if isinstance(state, State) and state.retry is not None:
                yield ("spec", "states", name), state.retry
    elif isinstance(spec, BtWorkflow):
        for path, node, _ in walk_tree(spec.root, ("spec", "root")):
            if isinstance(node, ActionN) and node.action.retry is not None:
                yield (*path, "action"), node.action.retry


def _over(
    code: Code,
    resource: Resource[object],
    path: YamlPath,
    shown: str,
    name: str,
    limit: Limit,
    report: Report,
) -> None:
    report.add(
        code,
        resource.file,
        resource.doc.span(path),
        f"{shown} is above the policy limit {name}: {limit.text}",
        hint=f"the limit is set at {limit.where()}",
    )
