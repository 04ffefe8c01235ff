"""Plans: each validated workflow → its normalized plan (`agentflow.bundle.plan`).   AF8xx

Input: the `Index` and the compiled conditions of a repository that validated without errors.
Output: one `Plan` per workflow, by name, and the (agent, tool) pairs each plan can reach, from
which ExecProfiles are derived. A value that has no JSON form (a NaN in a schema) is reported
as AF802 where it is written, and its workflow gets no plan; so does a workflow whose
conditions did not compile (their errors are already reported).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from agentflow.bundle.canonical import NotJsonError, canonical_json
from agentflow.bundle.plan import (
    MAX_TREE_DEPTH,
    ActionNode,
    ApprovalPlan,
    Binding,
    Branch,
    BtPlan,
    BtPlanNode,
    Condition,
    ConditionalSelectorNode,
    ConditionNode,
    FsmPlan,
    JsonText,
    LlmPlan,
    ParallelNode,
    Plan,
    SelectorNode,
    SequenceNode,
    StatePlan,
    Step,
    Transition,
)
from agentflow.bundle.profile import profile_id
from agentflow.compiler.cel.sites import CompiledCondition, ConditionKey
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.units import duration_ms
from agentflow.compiler.model.workflow import (
    Action,
    ActionN,
    ApprovalState,
    BtNode,
    BtWorkflow,
    ConditionN,
    FsmWorkflow,
    LlmWorkflow,
    ParallelN,
    SelectorN,
    SequenceN,
    State,
    WorkflowSpec,
)
from agentflow.compiler.plan.retry import normalize_retry


class _NoPlan(Exception):
    """A workflow that cannot be planned; the reason is already in the report."""


def compile_plans(
    index: Index, conditions: Mapping[ConditionKey, CompiledCondition], report: Report
) -> Mapping[str, Plan]:
    """Every workflow's plan, by workflow name, in name order."""
    plans: dict[str, Plan] = {}
    for name, workflow in sorted(index.named("Workflow").items()):
        try:
            plans[name] = _Planner(index, conditions, report, workflow).plan()
        except _NoPlan:
            continue
    return MappingProxyType(plans)


class _Planner:
    """Plans one workflow; raises `_NoPlan` when it cannot."""

    def __init__(
        self,
        index: Index,
        conditions: Mapping[ConditionKey, CompiledCondition],
        report: Report,
        workflow: Resource[WorkflowSpec],
    ) -> None:
        self.index = index
        self.conditions = conditions
        self.report = report
        self.workflow = workflow

    def plan(self) -> Plan:
        spec = self.workflow.spec
        common: dict[str, Any] = {
            "name": self.workflow.name,
            "timeout_ms": _ms(spec.timeout),
            "input_schema": self._json(
                spec.input.schema_ if spec.input else None, ("spec", "input", "schema")
            ),
        }
        if isinstance(spec, FsmWorkflow):
            states = tuple(self._state(name, spec.states[name]) for name in sorted(spec.states))
            finals = tuple(sorted(set(spec.final_states)))
            return FsmPlan(**common, initial=spec.initial_state, finals=finals, states=states)
        if isinstance(spec, BtWorkflow):
            return BtPlan(**common, root=self._node(spec.root, ("spec", "root"), 0))
        if isinstance(spec, LlmWorkflow):
            llm = spec.llm
            return LlmPlan(
                **common,
                binding=self._binding(llm.agent, None),
                prompt=llm.prompt,
                temperature=llm.temperature,
                max_steps=llm.max_steps,
                allowed_decisions=llm.allowed_decisions,
                output_schema=self._json(llm.output_schema, ("spec", "llm", "outputSchema")),
                fallback=llm.fallback,
            )
        raise _NoPlan  # pragma: no cover - the schema admits only the three planners

    def _state(self, name: str, state: State | ApprovalState) -> StatePlan:
        at: YamlPath = ("spec", "states", name)
        if state.transitions is not None:
            transitions = tuple(
                Transition(
                    target=t.target,
                    condition=self._condition((*at, "transitions", i, "condition"), t.condition),
                )
                for i, t in enumerate(state.transitions)
            )
        elif state.on_success is not None:
            transitions = (Transition(target=state.on_success, condition=None),)
        else:
            transitions = ()
        if isinstance(state, ApprovalState):
            approval = state.approval
            return StatePlan(
                name=name,
                step=None,
                approval=ApprovalPlan(
                    role=approval.role, timeout_ms=_ms(approval.timeout), prompt=approval.prompt
                ),
                transitions=transitions,
                on_error=state.on_error,
            )
        return StatePlan(
            name=name,
            step=self._step(state, at),
            transitions=transitions,
            on_error=state.on_error,
        )

    def _node(self, node: BtNode, at: YamlPath, depth: int) -> BtPlanNode:
        if depth > MAX_TREE_DEPTH:
            raise _NoPlan
        if isinstance(node, ActionN):
            return ActionNode(step=self._step(node.action, (*at, "action")))
        if isinstance(node, ConditionN):
            path = (*at, "condition", "when")
            return ConditionNode(condition=self._required(path, node.condition.when))
        if isinstance(node, SequenceN):
            return SequenceNode(children=self._children(node.sequence, (*at, "sequence"), depth))
        if isinstance(node, SelectorN):
            return SelectorNode(children=self._children(node.selector, (*at, "selector"), depth))
        if isinstance(node, ParallelN):
            children = self._children(node.parallel.children, (*at, "parallel", "children"), depth)
            return ParallelNode(policy=node.parallel.policy, children=children)
        branches = []
        for i, guarded in enumerate(node.conditional_selector):
            where = (*at, "conditional_selector", i)
            when = self._condition((*where, "when"), guarded.when)
            branches.append(Branch(when=when, do=self._node(guarded.do, (*where, "do"), depth + 1)))
        return ConditionalSelectorNode(branches=tuple(branches))

    def _children(
        self, nodes: tuple[BtNode, ...], at: YamlPath, depth: int
    ) -> tuple[BtPlanNode, ...]:
        return tuple(self._node(child, (*at, i), depth + 1) for i, child in enumerate(nodes))

    def _step(self, step: State | Action, at: YamlPath) -> Step:
        agent = self.index.get("Agent", step.agent)
        return Step(
            binding=self._binding(step.agent, step.tool),
            prompt=step.prompt,
            input=self._json(step.input, (*at, "input")),
            output_schema=self._output_schema(step, at),
            timeout_ms=_ms(step.timeout),
            retry=normalize_retry(step.retry or (agent.spec.retry if agent is not None else None)),
        )

    def _output_schema(self, step: State | Action, at: YamlPath) -> JsonText | None:
        """The step's own ``output.schema``, else its tool's ``outputSchema``."""
        if step.output is not None:
            return self._json(step.output.schema_, (*at, "output", "schema"))
        tool = self.index.get("Tool", step.tool) if step.tool is not None else None
        if tool is None:
            return None
        return self._json(tool.spec.output_schema, ("spec", "outputSchema"), tool)

    def _binding(self, agent_name: str, tool: str | None) -> Binding:
        agent = self.index.get("Agent", agent_name)
        if agent is None:
            raise _NoPlan  # an unknown agent: AF301 says so
        tools = (tool,) if tool is not None else tuple(sorted(agent.spec.tools))
        return Binding(
            agent=agent_name, tool=tool, profile=profile_id(agent_name, tool), tools=tools
        )

    def _condition(self, path: YamlPath, source: str | None) -> Condition | None:
        return None if source is None else self._required(path, source)

    def _required(self, path: YamlPath, source: str) -> Condition:
        compiled = self.conditions.get(("Workflow", self.workflow.name, path))
        if compiled is None or compiled.file != self.workflow.file:
            raise _NoPlan  # it did not compile: its AF5xx diagnostic is reported
        return Condition(
            source=compiled.source, checked=compiled.checked, result_type=compiled.result_type
        )

    def _json(
        self, value: Any, path: YamlPath, where: Resource[object] | None = None
    ) -> JsonText | None:
        if value is None:
            return None
        resource = where or self.workflow
        try:
            return canonical_json(value).decode("utf-8")
        except NotJsonError as error:
            self.report.add(
                codes.NOT_JSON,
                resource.file,
                resource.doc.span(path),
                f"this value cannot be written to the bundle: {error}",
                hint="a JSON number is a double: write an integer this large as a string",
            )
            raise _NoPlan from None


def _ms(duration: str | None) -> int | None:
    return None if duration is None else duration_ms(duration)
