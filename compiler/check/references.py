"""References: every name a resource uses resolves to a resource of the right kind.   AF3xx

Input: the `Index` of validated resources. Output: diagnostics: unknown agents, tools, roles
(an agent's, and an approval state's approver role), workflows, templates and environments,
each with a did-you-mean hint. A Scenario's names are the scenario checks' (AF9xx).
"""

from __future__ import annotations

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.codes import Code
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.policy import KindName, PolicySpec
from agentflow.compiler.model.walk import workflow_steps
from agentflow.compiler.model.workflow import (
    ApprovalState,
    FsmWorkflow,
    LlmWorkflow,
    WorkflowSpec,
)


def check_references(index: Index, report: Report) -> None:
    for agent in index.all("Agent"):
        for i, tool in enumerate(agent.spec.tools):
            _expect(index, "Tool", tool, agent, ("spec", "tools", i), codes.UNKNOWN_TOOL, report)
        role = agent.spec.role
        if role is not None:
            _expect_role(index, role, agent, ("spec", "role"), report)
    for policy in index.all("Policy"):
        for role_name, role_spec in policy.spec.roles.items():
            for i, tool in enumerate(role_spec.allowed_tools):
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
        for path, agent_name, tool_name in workflow_steps(workflow.spec):
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
        if isinstance(spec, FsmWorkflow):
            for name, state in spec.states.items():
                if isinstance(state, ApprovalState):  # only a holder of the role may decide
                    at = ("spec", "states", name, "approval", "role")
                    _expect_role(index, state.approval.role, workflow, at, report)
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


def _expect_role(
    index: Index, role: str, user: Resource[object], path: YamlPath, report: Report
) -> None:
    if role in index.roles or ("Role", role) in index.invalid:
        return
    report.add(
        codes.UNKNOWN_ROLE,
        user.file,
        user.doc.span(path),
        f"role '{role}' is not defined by any Policy",
        hint=did_you_mean(role, index.roles),
    )


def _check_step_tool(
    index: Index,
    workflow: Resource[WorkflowSpec],
    path: YamlPath,
    agent_name: str,
    tool_name: str,
    report: Report,
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


def _check_environments(index: Index, policy: Resource[PolicySpec], report: Report) -> None:
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
    index: Index,
    kind: KindName,
    name: str,
    user: Resource[object],
    path: YamlPath,
    code: Code,
    report: Report,
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
