"""FSM workflow graphs: state names, reachability, exits, routing and timing.   AF4xx

Input: a validated ``planner: fsm`` workflow. Output: diagnostics only. The graph's edges are
every ``transitions[].target``, ``on_success`` and ``on_error``, dead transitions and the exits
of final states included, so that each problem is reported once, where it is written.

An edge to an unknown state (AF401) leaves the graph incomplete. Rather than flood the user with
its consequences, the searches stay quiet where the missing edge might matter: reachability
(AF402) is not reported when a reachable state has such an edge, and a state that can reach
one is not said to be stuck (AF403). States without any exit (AF404) are treated the same way,
so AF403 names where a path goes wrong, not every state upstream of it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from agentflow.compiler.check.timing import (
    StepTiming,
    check_step_timing,
    find_tool_timeout_ms,
    find_workflow_limit_ms,
)
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.workflow import AnyState, ApprovalState, FsmWorkflow, WorkflowSpec


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    path: YamlPath
    """Where the target is written."""


def collect_edges(spec: FsmWorkflow) -> Iterator[Edge]:
    """Every edge of the state graph, in document order."""
    for name, state in spec.states.items():
        at = ("spec", "states", name)
        for i, transition in enumerate(state.transitions or ()):
            yield Edge(name, transition.target, (*at, "transitions", i, "target"))
        if state.on_success is not None:
            yield Edge(name, state.on_success, (*at, "on_success"))
        if state.on_error is not None:
            yield Edge(name, state.on_error, (*at, "on_error"))


def check_fsm(index: Index, workflow: Resource[WorkflowSpec], report: Report) -> None:
    """AF401–AF407, AF409 and AF417 for one FSM workflow."""
    spec = workflow.spec
    if not isinstance(spec, FsmWorkflow):
        return
    edges = tuple(collect_edges(spec))
    dangling = _check_names(workflow, spec, edges, report)
    stuck = _check_exits(workflow, spec, report)
    _check_routing(workflow, spec, report)
    _check_paths(workflow, spec, edges, dangling, stuck, report)
    _check_timing(index, workflow, spec, report)


def _check_names(
    workflow: Resource[WorkflowSpec], spec: FsmWorkflow, edges: tuple[Edge, ...], report: Report
) -> frozenset[str]:
    """AF401 and AF417; returns the states with an edge to an unknown state."""
    states, doc = spec.states, workflow.doc
    if spec.initial_state not in states:
        report.add(
            codes.UNKNOWN_STATE,
            workflow.file,
            doc.span(("spec", "initial_state")),
            f"initial state '{spec.initial_state}' is not defined",
            hint=did_you_mean(spec.initial_state, states),
        )
    if not spec.final_states:
        report.add(
            codes.NO_FINAL_STATES,
            workflow.file,
            doc.key_span(("spec", "final_states")),
            "the workflow has no final states, so no run can finish",
            hint="list the states where a run ends in final_states",
        )
    for i, final in enumerate(spec.final_states):
        if final not in states:
            report.add(
                codes.UNKNOWN_STATE,
                workflow.file,
                doc.span(("spec", "final_states", i)),
                f"final state '{final}' is not defined",
                hint=did_you_mean(final, states),
            )
    dangling = set()
    for edge in edges:
        if edge.target not in states:
            dangling.add(edge.source)
            report.add(
                codes.UNKNOWN_STATE,
                workflow.file,
                doc.span(edge.path),
                f"state '{edge.source}' goes to '{edge.target}', which is not defined",
                hint=did_you_mean(edge.target, states),
            )
    return frozenset(dangling)


def _check_exits(
    workflow: Resource[WorkflowSpec], spec: FsmWorkflow, report: Report
) -> frozenset[str]:
    """AF404 and AF406; returns the non-final states without any exit."""
    stuck = set()
    for name, state in spec.states.items():
        key = ("spec", "states", name)
        if name in spec.final_states:
            for field in _exit_fields(state):
                report.add(
                    codes.FINAL_WITH_EXIT,
                    workflow.file,
                    workflow.doc.key_span((*key, field)),
                    f"final state '{name}' has {field}, but a run ends at a final state",
                    hint=f"remove {field}, or take '{name}' out of final_states",
                )
        elif not _exit_fields(state):
            stuck.add(name)
            report.add(
                codes.NO_EXIT,
                workflow.file,
                workflow.doc.key_span(key),
                f"state '{name}' is not final and has no transitions, on_success "
                "or on_error, so a run that gets here never ends",
                hint=f"add on_success, or list '{name}' in final_states",
            )
    return frozenset(stuck)


def _exit_fields(state: AnyState) -> tuple[str, ...]:
    fields: tuple[str, ...] = ("transitions",) if state.transitions else ()
    if state.on_success is not None:
        fields += ("on_success",)
    if state.on_error is not None:
        fields += ("on_error",)
    return fields


def _check_routing(workflow: Resource[WorkflowSpec], spec: FsmWorkflow, report: Report) -> None:
    """AF409 for mixed routing, AF405 for transitions after the default one."""
    for name, state in spec.states.items():
        key = ("spec", "states", name)
        if state.transitions is not None and state.on_success is not None:
            report.add(
                codes.CONFLICTING_ROUTING,
                workflow.file,
                workflow.doc.key_span((*key, "on_success")),
                f"state '{name}' has both transitions and on_success",
                hint="use one: a transition without a condition is the default, like on_success",
            )
        transitions = state.transitions or ()
        default = next((i for i, t in enumerate(transitions) if t.condition is None), None)
        if default is None:
            continue
        for i in range(default + 1, len(transitions)):
            field = "condition" if transitions[i].condition is not None else "target"
            report.add(
                codes.DEAD_TRANSITION,
                workflow.file,
                workflow.doc.span((*key, "transitions", i, field)),
                f"transition {i + 1} of state '{name}' never fires: transition "
                f"{default + 1} has no condition and always matches first",
                hint="first match wins; move the default transition last",
            )


def _check_paths(
    workflow: Resource[WorkflowSpec],
    spec: FsmWorkflow,
    edges: tuple[Edge, ...],
    dangling: frozenset[str],
    stuck: frozenset[str],
    report: Report,
) -> None:
    """AF402 (unreachable from the initial state) and AF403 (cannot reach a final state)."""
    states, doc = spec.states, workflow.doc
    forward: dict[str, list[str]] = {name: [] for name in states}
    backward: dict[str, list[str]] = {name: [] for name in states}
    for edge in edges:
        if edge.target in states:
            forward[edge.source].append(edge.target)
            backward[edge.target].append(edge.source)
    unreachable: frozenset[str] = frozenset()
    if spec.initial_state in states:
        reached = search_graph([spec.initial_state], forward)
        if not reached & dangling:  # else an unknown target may have meant an unreached state
            unreachable = frozenset(states) - reached
        for name in sorted(unreachable):
            report.add(
                codes.UNREACHABLE_STATE,
                workflow.file,
                doc.key_span(("spec", "states", name)),
                f"state '{name}' cannot be reached from the initial state '{spec.initial_state}'",
                hint="route to it from a reachable state, or remove it",
            )
    finals = [name for name in spec.final_states if name in states]
    if not finals:
        return  # AF417 or AF401 already says why nothing can finish
    settled = search_graph([*finals, *dangling, *stuck], backward)
    for name in states:
        if name not in settled and name not in unreachable:
            report.add(
                codes.NO_PATH_TO_FINAL,
                workflow.file,
                doc.key_span(("spec", "states", name)),
                f"no path leads from state '{name}' to a final state "
                f"({', '.join(finals)}), so a run that gets here never ends",
                hint="add a transition towards a final state",
            )


def search_graph(start: Iterable[str], successors: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """Every node reachable from ``start`` (included), breadth first."""
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in successors.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return frozenset(seen)


def _check_timing(
    index: Index, workflow: Resource[WorkflowSpec], spec: FsmWorkflow, report: Report
) -> None:
    limit = find_workflow_limit_ms(workflow)
    for name, state in spec.states.items():
        if isinstance(state, ApprovalState):  # the wait must fit too
            wait = StepTiming(
                path=("spec", "states", name, "approval"),
                timeout=state.approval.timeout,
                retry=None,
            )
            check_step_timing(workflow, wait, f"the approval of state '{name}'", limit, report)
            continue
        step = StepTiming(
            path=("spec", "states", name),
            timeout=state.timeout,
            retry=state.retry,
            attempt_fallback_ms=find_tool_timeout_ms(index, state.tool),
        )
        check_step_timing(workflow, step, f"state '{name}'", limit, report)
