"""Pictures of compiled plans (`af graph`): a plan → Mermaid or Graphviz dot text.

Input: a `Plan` (`agentflow.bundle.plan`). Output: the text of a diagram, identical for identical
plans. A plan is first laid out as a `Picture` (nodes with shapes and label lines, edges with
labels and styles), which each format then writes, so Mermaid and dot always show the same thing:

- FSM: a start marker, one node per state (agent and tool under its name), final states
  marked, transitions labelled with their condition's source (``else`` for a default after
  guarded ones), error edges dashed.
- BT: the node tree, each child under its parent in order; conditional-selector branches
  labelled with their guard.
- LLM: the planner, an edge to each allowed decision and a dashed one to the fallback workflow.

Mermaid output is a ``flowchart`` (what GitHub renders as-is): node ids are generated
(``n0``…) so no state name can collide with a keyword, and every label is quoted with the
characters Mermaid would read as syntax written as entity codes. docs/graph.md shows examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from agentflow.bundle.plan import (
    MAX_TREE_DEPTH,
    ActionNode,
    Binding,
    BtPlan,
    BtPlanNode,
    ConditionalSelectorNode,
    ConditionNode,
    FsmPlan,
    LlmPlan,
    ParallelNode,
    Plan,
    SelectorNode,
    SequenceNode,
    StatePlan,
)

Shape = Literal["start", "state", "final", "action", "control", "condition", "outcome", "workflow"]
Style = Literal["solid", "dashed"]
FORMATS = ("mermaid", "dot")


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    shape: Shape
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str | None = None
    style: Style = "solid"


@dataclass(slots=True)
class Picture:
    """A plan laid out: what both formats draw."""

    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, shape: Shape, *lines: str) -> str:
        node = Node(f"n{len(self.nodes)}", shape, lines)
        self.nodes.append(node)
        return node.id


def draw_plan(plan: Plan, fmt: str) -> str:
    """The plan as a diagram in ``fmt`` (``mermaid`` or ``dot``), ending with a newline."""
    return _WRITERS[fmt](lay_out(plan))


def lay_out(plan: Plan) -> Picture:
    picture = Picture(plan.name)
    if isinstance(plan, FsmPlan):
        _lay_out_fsm(plan, picture)
    elif isinstance(plan, BtPlan):
        _lay_out_bt(plan.root, picture)
    else:
        _lay_out_llm(plan, picture)
    return picture


def _lay_out_fsm(plan: FsmPlan, picture: Picture) -> None:
    start = picture.add("start", "start")
    ids: dict[str, str] = {}
    for state in plan.states:
        shape: Shape = "final" if state.name in plan.finals else "state"
        ids[state.name] = picture.add(shape, state.name, does(state))
    if plan.initial in ids:
        picture.edges.append(Edge(start, ids[plan.initial]))
    for state in plan.states:
        guarded = False
        for transition in state.transitions:
            target = ids.get(transition.target)
            if target is None:
                continue
            if transition.condition is not None:
                guarded = True
                label: str | None = transition.condition.source
            else:
                label = "else" if guarded else None
            picture.edges.append(Edge(ids[state.name], target, label))
        if state.on_error is not None and state.on_error in ids:
            picture.edges.append(Edge(ids[state.name], ids[state.on_error], "error", "dashed"))


def _lay_out_bt(
    node: BtPlanNode,
    picture: Picture,
    parent: str | None = None,
    label: str | None = None,
    depth: int = 0,
) -> None:
    """Each node, then an edge from its parent, then its children: edges in pre-order."""
    if isinstance(node, ActionNode):
        this = picture.add("action", who(node.step.binding))
    elif isinstance(node, ConditionNode):
        this = picture.add("condition", node.condition.source)
    elif isinstance(node, ParallelNode):
        this = picture.add("control", "parallel", node.policy)
    elif isinstance(node, SequenceNode | SelectorNode):
        this = picture.add("control", "sequence" if isinstance(node, SequenceNode) else "selector")
    else:
        this = picture.add("control", "conditional_selector")
    if parent is not None:
        picture.edges.append(Edge(parent, this, label))
    if depth > MAX_TREE_DEPTH:
        return
    if isinstance(node, ConditionalSelectorNode):
        for branch in node.branches:
            guard = branch.when.source if branch.when is not None else "else"
            _lay_out_bt(branch.do, picture, this, guard, depth + 1)
    elif isinstance(node, SequenceNode | SelectorNode | ParallelNode):
        for child in node.children:
            _lay_out_bt(child, picture, this, None, depth + 1)


def _lay_out_llm(plan: LlmPlan, picture: Picture) -> None:
    planner = picture.add(
        "state",
        f"LLM planner: {who(plan.binding)}",
        f"at most {plan.max_steps} steps, temperature {plan.temperature:g}",
    )
    for decision in plan.allowed_decisions:
        picture.edges.append(Edge(planner, picture.add("outcome", decision)))
    if plan.fallback is not None:
        fallback = picture.add("workflow", f"fallback: {plan.fallback}")
        picture.edges.append(Edge(planner, fallback, "on failure", "dashed"))


def does(state: StatePlan) -> str:
    """What an FSM state does: its step's ``agent / tool``, or ``approval by ROLE``."""
    if state.step is not None:
        return who(state.step.binding)
    assert state.approval is not None
    return f"approval by {state.approval.role}"


def who(binding: Binding) -> str:
    """``agent / tool``, or the agent alone for its own work."""
    if binding.tool is not None:
        return f"{binding.agent} / {binding.tool}"
    return binding.agent


# --- Mermaid -------------------------------------------------------------------------------


def mermaid_with_changes(head: Plan, base: Plan | None) -> str:
    """Mermaid of ``head`` with what is new since ``base`` marked (for `af diff`): edges that
    are new or relabelled drawn thick and red, nodes that are new filled."""
    picture = lay_out(head)
    before = lay_out(base) if base is not None else Picture("")
    old_edges = {_signature(before, edge) for edge in before.edges}
    old_nodes = {node.lines for node in before.nodes}
    changed = [
        str(i) for i, e in enumerate(picture.edges) if _signature(picture, e) not in old_edges
    ]
    added = [node.id for node in picture.nodes if node.lines not in old_nodes]
    lines = [_to_mermaid(picture).rstrip("\n")]
    if changed:
        lines.append(f"  linkStyle {','.join(changed)} stroke:#d1242f,stroke-width:3px")
    if added:
        lines.append("  classDef changed fill:#fff8c5,stroke:#9a6700")
        lines.append(f"  class {','.join(added)} changed")
    return "\n".join(lines) + "\n"


def _signature(picture: Picture, edge: Edge) -> tuple[object, ...]:
    lines = {node.id: node.lines for node in picture.nodes}
    return (lines[edge.source], lines[edge.target], edge.label, edge.style)


_MERMAID_SHAPES: dict[Shape, tuple[str, str]] = {
    "start": ("((", "))"),
    "state": ("[", "]"),
    "final": ("([", "])"),
    "action": ("[", "]"),
    "control": ("{{", "}}"),
    "condition": ("{", "}"),
    "outcome": ("([", "])"),
    "workflow": ("[[", "]]"),
}
_MERMAID_ENTITIES = {
    "#": "#35;",  # first: every other replacement writes a '#'
    "&": "#amp;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "|": "#124;",
    "`": "#96;",
}


def mermaid_text(text: str) -> str:
    """``text`` for inside a quoted Mermaid label: syntax characters as entity codes and line
    breaks as ``<br>``."""
    for character, entity in _MERMAID_ENTITIES.items():
        text = text.replace(character, entity)
    return "<br>".join(_lines(text))


def _to_mermaid(picture: Picture) -> str:
    out = ["flowchart TD", f"  %% {mermaid_text(picture.title)}"]
    for node in picture.nodes:
        opening, closing = _MERMAID_SHAPES[node.shape]
        label = "<br>".join(mermaid_text(line) for line in node.lines)
        out.append(f'  {node.id}{opening}"{label}"{closing}')
    for edge in picture.edges:
        arrow = "-.->" if edge.style == "dashed" else "-->"
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label is not None else ""
        out.append(f"  {edge.source} {arrow}{label} {edge.target}")
    finals = [node.id for node in picture.nodes if node.shape == "final"]
    if finals:
        out.append("  classDef final stroke-width:3px")
        out.append(f"  class {','.join(finals)} final")
    return "\n".join(out) + "\n"


# --- Graphviz dot --------------------------------------------------------------------------

_DOT_SHAPES: dict[Shape, str] = {
    "start": 'shape=point, width=0.2, label=""',
    "state": 'shape=box, style="rounded"',
    "final": 'shape=box, style="rounded", peripheries=2',
    "action": "shape=box",
    "control": "shape=hexagon",
    "condition": "shape=diamond",
    "outcome": "shape=ellipse",
    "workflow": "shape=component",
}


def dot_text(text: str) -> str:
    """``text`` for inside a quoted dot string: backslashes and quotes escaped, line breaks
    as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return "\\n".join(_lines(escaped))


def _to_dot(picture: Picture) -> str:
    out = [f'digraph "{dot_text(picture.title)}" {{', "  rankdir=TB;"]
    for node in picture.nodes:
        label = "\\n".join(dot_text(line) for line in node.lines)
        attributes = _DOT_SHAPES[node.shape]
        if node.shape != "start":
            attributes += f', label="{label}"'
        out.append(f"  {node.id} [{attributes}];")
    for edge in picture.edges:
        edge_attributes = []
        if edge.label is not None:
            edge_attributes.append(f'label="{dot_text(edge.label)}"')
        if edge.style == "dashed":
            edge_attributes.append("style=dashed")
        suffix = f" [{', '.join(edge_attributes)}]" if edge_attributes else ""
        out.append(f"  {edge.source} -> {edge.target}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")


_WRITERS: dict[str, Callable[[Picture], str]] = {"mermaid": _to_mermaid, "dot": _to_dot}
