"""An environment's constraints, checked against the policies and the profiles.   AF609–AF611

Input: the `Index`, the policies in force, the (agent, tool) pairs the plans reach and the
environment being validated (``--env``). Output: diagnostics only:

- every environment's sandbox against the policies' ``allowProcessIn`` (AF609), always: it is a
  fact of the repository, not of one build;
- with ``--env``: each domain a reached tool needs, and each host it is reached at (an http
  tool's endpoint, an MCP tool's server), against the environment's ``egress`` allow-list under
  strict (error) or lenient (warning) residency, and so is the host of every model provider the
  environment names (AF610, at the permission or the URL; an environment without ``egress``
  leaves tools to what their roles grant), and each reached agent's pinned region against the
  environment's (AF611).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Literal
from urllib.parse import urlsplit

from agentflow.compiler.check.environment import TargetEnvironment
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.permissions import DOMAIN_PERMISSIONS
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.policy import PolicySpec
from agentflow.compiler.model.project import Environment
from agentflow.compiler.model.tool import HttpTool, ToolSpec
from agentflow.compiler.plan.profiles import effective_sandbox
from agentflow.compiler.policy.grants import domain_granted
from agentflow.compiler.policy.roles import tool_needs


def check_environment(
    index: Index,
    policies: tuple[Resource[PolicySpec], ...],
    pairs: Iterable[tuple[str, str | None]],
    target: TargetEnvironment,
    report: Report,
) -> None:
    check_sandboxes(index, policies, report)
    environment, env = target.name, target.spec
    if env is None or environment is None:
        return
    reached = sorted(
        {pair for pair in pairs if index.get("Agent", pair[0]) is not None},
        key=lambda pair: (pair[0], pair[1] or ""),
    )
    users: dict[str, tuple[str, ...]] = {}
    for agent_name, tool_name in reached:
        if tool_name is not None:
            users[tool_name] = (*users.get(tool_name, ()), agent_name)
    _check_egress(index, users, environment, env, report)
    _check_regions(index, {agent for agent, _ in reached}, environment, env, report)


def check_sandboxes(
    index: Index, policies: tuple[Resource[PolicySpec], ...], report: Report
) -> None:
    """An environment may run steps as plain processes only where every policy allows it."""
    project = index.project
    if project is None:
        return
    for name, env in project.spec.environments.items():
        sandbox, _ = effective_sandbox(index, policies, name, env)
        if sandbox != "process":
            continue
        for policy in policies:
            rules = policy.spec.sandbox
            if rules is None or name in rules.allow_process_in:
                continue
            path = ("spec", "sandbox", "allowProcessIn")
            where = f"{policy.file}:{policy.doc.span(path).line} (policy '{policy.name}')"
            at = ("spec", "environments", name, "sandbox")
            report.add(
                codes.PROCESS_SANDBOX_NOT_ALLOWED,
                project.file,
                project.doc.span(at) if at in project.doc.value_spans else project.doc.span(at[:3]),
                f"environment '{name}' runs steps in the 'process' sandbox, which policy "
                f"'{policy.name}' does not allow there",
                hint=f"use gvisor or docker, or add '{name}' to allowProcessIn at {where}",
            )


# --- residency -----------------------------------------------------------------------------


def _check_egress(
    index: Index,
    users: Mapping[str, tuple[str, ...]],
    environment: str,
    env: Environment,
    report: Report,
) -> None:
    """Each domain a reached tool needs or is reached at, and each model provider's host, must
    be on the environment's egress allow-list."""
    if env.residency == "off" or env.egress is None:
        return
    severity: Literal["error", "warning"] = "error" if env.residency == "strict" else "warning"
    egress = env.egress
    for tool_name, agents in sorted(users.items()):
        tool = index.get("Tool", tool_name)
        if tool is None:
            continue
        seen: set[str] = set()
        used_by = ", ".join(f"'{a}'" for a in agents)
        for domain, at in _tool_hosts(tool):
            if domain in seen or any(domain_granted(domain, a) for a in egress):
                continue
            seen.add(domain)
            report.add(
                codes.EGRESS_OUTSIDE_RESIDENCY,
                tool.file,
                tool.doc.span(at),
                f"tool '{tool.name}' (used by {used_by}) reaches '{domain}', which "
                f"environment '{environment}' with {env.residency} residency does not allow",
                hint=_egress_hint(index, environment),
                severity=severity,
            )
    project = index.project
    assert project is not None
    for name, provider in sorted(env.providers.items()):
        host = urlsplit(provider.base_url).hostname
        if host is None or any(domain_granted(host, a) for a in egress):
            continue
        at = ("spec", "environments", environment, "providers", name, "baseUrl")
        report.add(
            codes.EGRESS_OUTSIDE_RESIDENCY,
            project.file,
            project.doc.span(at),
            f"model provider '{name}' is reached at '{host}', which environment "
            f"'{environment}' with {env.residency} residency does not allow",
            hint=_egress_hint(index, environment),
            severity=severity,
        )


def _tool_hosts(tool: Resource[ToolSpec]) -> Iterator[tuple[str, YamlPath]]:
    """Every host a tool needs (its domain permissions, its MCP server) or is called at (an
    http tool's endpoint), with where it is written."""
    for name, need, path in tool_needs(tool):
        if name in DOMAIN_PERMISSIONS and isinstance(need, list | tuple):
            for i, domain in enumerate(str(d) for d in need):
                yield domain, (*path, i) if path[-1] == name else path
    spec = tool.spec
    if isinstance(spec, HttpTool):
        host = urlsplit(spec.endpoint).hostname
        if host is not None:
            yield host, ("spec", "endpoint")


def _egress_hint(index: Index, environment: str) -> str:
    project = index.project
    assert project is not None
    span = project.doc.span(("spec", "environments", environment))
    return (
        f"add the host (in-region only) to spec.environments.{environment}.egress at "
        f"{project.file}:{span.line}"
    )


def _check_regions(
    index: Index, agents: set[str], environment: str, env: Environment, report: Report
) -> None:
    if not env.region:
        return
    for name in sorted(agents):
        agent = index.get("Agent", name)
        residency = agent.spec.residency if agent is not None else None
        if agent is None or residency is None or _in_region(env.region, residency.region):
            continue
        report.add(
            codes.REGION_MISMATCH,
            agent.file,
            agent.doc.span(("spec", "residency", "region")),
            f"agent '{name}' is pinned to region '{residency.region}', but environment "
            f"'{environment}' runs in '{env.region}'",
            hint="build for an environment in that region, or change the agent's residency",
            severity="error" if residency.strict else "warning",
        )


def _in_region(environment_region: str, agent_region: str) -> bool:
    """``eu`` holds ``eu-west-1``; ``eu-west-1`` holds only itself."""
    env_region, wanted = environment_region.lower(), agent_region.lower()
    return env_region == wanted or env_region.startswith(wanted + "-")
