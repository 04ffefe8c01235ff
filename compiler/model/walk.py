"""Walking a workflow's model: its steps, and its behavior tree node by node.   (no diagnostics)

Every stage that visits steps or nodes uses these walkers, so they agree on document paths.
Recursion is bounded by `MAX_TREE_DEPTH`, past the loader's nesting limit: it only guards a
tree no loader produced.
"""

from __future__ import annotations

from collections.abc import Iterator

from agentflow.bundle.plan import MAX_TREE_DEPTH
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.model.workflow import (
    ActionN,
    BtNode,
    BtWorkflow,
    ConditionalSelectorN,
    FsmWorkflow,
    LlmWorkflow,
    ParallelN,
    SelectorN,
    SequenceN,
    State,
    WorkflowSpec,
)


def walk_tree(
    node: BtNode, path: YamlPath, level: int = 1
) -> Iterator[tuple[YamlPath, BtNode, int]]:
    """Every node, depth first, with its document path and level (the root is level 1)."""
    yield path, node, level
    if level > MAX_TREE_DEPTH:
        return
    for child_path, child in list_children(node, path):
        yield from walk_tree(child, child_path, level + 1)


def list_children(node: BtNode, path: YamlPath) -> tuple[tuple[YamlPath, BtNode], ...]:
    """A node's children with their document paths; leaves have none."""
    if isinstance(node, SequenceN):
        return tuple(((*path, "sequence", i), c) for i, c in enumerate(node.sequence))
    if isinstance(node, SelectorN):
        return tuple(((*path, "selector", i), c) for i, c in enumerate(node.selector))
    if isinstance(node, ParallelN):
        return tuple(
            ((*path, "parallel", "children", i), c) for i, c in enumerate(node.parallel.children)
        )
    if isinstance(node, ConditionalSelectorN):
        return tuple(
            ((*path, "conditional_selector", i, "do"), g.do)
            for i, g in enumerate(node.conditional_selector)
        )
    return ()


def workflow_steps(spec: WorkflowSpec) -> Iterator[tuple[YamlPath, str, str | None]]:
    """Every step of a workflow as (path of the step, agent, tool); approval states run none."""
    if isinstance(spec, FsmWorkflow):
        for state_name, state in spec.states.items():
            if isinstance(state, State):
                yield ("spec", "states", state_name), state.agent, state.tool
    elif isinstance(spec, BtWorkflow):
        for path, node, _ in walk_tree(spec.root, ("spec", "root")):
            if isinstance(node, ActionN):
                yield (*path, "action"), node.action.agent, node.action.tool
    elif isinstance(spec, LlmWorkflow):
        yield ("spec", "llm"), spec.llm.agent, None
