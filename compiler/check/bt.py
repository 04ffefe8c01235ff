"""Behavior-tree workflow graphs: children, dead branches, depth and timing.   AF4xx

Input: a validated ``planner: bt`` workflow. Output: diagnostics only. Composites need a child
(AF410; a parallel of one child is only a warning), a conditional_selector branch without
``when`` makes every later branch dead (AF416), trees deeper than `MAX_DEPTH` are refused
(AF411) and action timeouts and retries must fit in the workflow timeout (AF407, AF408).
"""

from __future__ import annotations

from typing import Final

from agentflow.compiler.check.timing import (
    StepTiming,
    check_step_timing,
    find_tool_timeout_ms,
    find_workflow_limit_ms,
)
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.walk import list_children, walk_tree
from agentflow.compiler.model.workflow import (
    ActionN,
    BtNode,
    BtWorkflow,
    ConditionalSelectorN,
    ParallelN,
    SelectorN,
    SequenceN,
    WorkflowSpec,
)

MAX_DEPTH: Final = 16
"""Levels of nodes, the root being level 1. Deeper trees are generated, not written."""


def check_bt(index: Index, workflow: Resource[WorkflowSpec], report: Report) -> None:
    """AF407, AF408, AF410, AF411 and AF416 for one behavior-tree workflow."""
    spec = workflow.spec
    if not isinstance(spec, BtWorkflow):
        return
    limit = find_workflow_limit_ms(workflow)
    too_deep = False
    for path, node, depth in walk_tree(spec.root, ("spec", "root")):
        if depth > MAX_DEPTH and not too_deep:
            too_deep = True  # once per tree: every node below would say the same
            report.add(
                codes.BT_TOO_DEEP,
                workflow.file,
                workflow.doc.span(path),
                f"this node is at level {depth} of the tree; at most {MAX_DEPTH} "
                "levels are allowed",
                hint="split the tree into smaller workflows or flatten nested sequences",
            )
        _check_children(workflow, path, node, report)
        if isinstance(node, ConditionalSelectorN):
            _check_branches(workflow, path, node, report)
        elif isinstance(node, ActionN):
            action = node.action
            step = StepTiming(
                path=(*path, "action"),
                timeout=action.timeout,
                retry=action.retry,
                attempt_fallback_ms=find_tool_timeout_ms(index, action.tool),
            )
            check_step_timing(
                workflow, step, f"the action of agent '{action.agent}'", limit, report
            )


def _check_children(
    workflow: Resource[WorkflowSpec], path: YamlPath, node: BtNode, report: Report
) -> None:
    if not isinstance(node, SequenceN | SelectorN | ParallelN | ConditionalSelectorN):
        return
    kind = next(iter(type(node).model_fields))  # a node is a mapping of exactly one kind
    count = len(list_children(node, path))
    key = workflow.doc.key_span((*path, kind))
    if count == 0:
        report.add(
            codes.BT_CHILDREN,
            workflow.file,
            key,
            f"{kind} has no children, so it has nothing to run",
            hint="add at least one child node, or remove it",
        )
    elif count == 1 and kind == "parallel":
        report.add(
            codes.BT_CHILDREN,
            workflow.file,
            key,
            "parallel has a single child, so nothing runs in parallel",
            hint="add a child, or replace the parallel with the child itself",
            severity="warning",
        )


def _check_branches(
    workflow: Resource[WorkflowSpec], path: YamlPath, node: ConditionalSelectorN, report: Report
) -> None:
    branches = node.conditional_selector
    default = next((i for i, b in enumerate(branches) if b.when is None), None)
    if default is None:
        return
    for i in range(default + 1, len(branches)):
        report.add(
            codes.DEAD_BT_BRANCH,
            workflow.file,
            workflow.doc.span((*path, "conditional_selector", i)),
            f"branch {i + 1} never runs: branch {default + 1} has no 'when' and "
            "always matches first",
            hint="the first matching branch runs; move the default branch last",
        )
