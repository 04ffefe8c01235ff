"""CEL conditions: every expression parsed, type-checked and compiled once.   AF5xx

Input: the `Index` of validated resources (and the snapshot, for exact columns). Output: a frozen
mapping of every condition that checks to its compiled form (`CompiledCondition`), plus
diagnostics. The expressions are FSM transition ``condition``s, behavior-tree ``when``s
(``condition`` nodes and ``conditional_selector`` branches) and Policy rule ``expr``s.

Variables, per SPEC §1: ``output`` is the previous step's output, typed by the step's
``output.schema`` or else its tool's ``outputSchema`` (an approval state's is the fixed
decision ``{approved, approver, comment}``; in a behavior tree: the last action run before, in
sequence order); ``input`` is typed by the workflow's ``input.schema``; ``env`` by the
Project's environment toggles (`toggles_schema`: those of ``--env``, else of every environment,
so a misspelled toggle is an error); ``state`` is a dynamic map. A Policy rule (of the repository
or of a selected policy pack) sees ``spec`` and ``metadata`` (dynamic maps), ``kind`` (a string)
and ``env``, the environment being validated (a dynamic map; `rules.environment_view`). A rule
ranges over one resource, which the loader bounds (`load.yaml.MAX_NODES`), so its comprehensions are
bounded; a workflow's are not.

The engine is cel-expr-python (`engine`); JSON Schemas become the types it checks against
in `schema_types`; docs/conditions.md says why and what maps to what.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from agentflow.bundle.plan import APPROVAL_OUTPUT_SCHEMA, MAX_TREE_DEPTH
from agentflow.compiler.cel.sites import (
    DYNAMIC_MAP,
    RULE_VARIABLES,
    WORKFLOW_VARIABLES,
    CompiledCondition,
    ConditionKey,
    Site,
)
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.compose import MAX_NODES
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.user_schemas import json_type_of
from agentflow.compiler.model.base import JsonSchemaRef
from agentflow.compiler.model.policy import PolicySpec
from agentflow.compiler.model.workflow import (
    ActionN,
    ApprovalState,
    BtNode,
    BtWorkflow,
    ConditionalSelectorN,
    ConditionN,
    FsmWorkflow,
    ParallelN,
    SelectorN,
    SequenceN,
    WorkflowSpec,
)
from agentflow.compiler.source.snapshot import Snapshot


def check_conditions(
    index: Index,
    report: Report,
    snapshot: Snapshot | None = None,
    pack_policies: Iterable[Resource[PolicySpec]] = (),
    environment: str | None = None,
) -> Mapping[ConditionKey, CompiledCondition]:
    """Check every condition; return those that compiled, by (kind, name, path)."""
    sites = tuple(find_sites(index, pack_policies, environment))
    if not sites:
        return MappingProxyType({})
    from agentflow.compiler.cel.check import check_sites

    return check_sites(sites, report, snapshot)


def find_sites(
    index: Index,
    pack_policies: Iterable[Resource[PolicySpec]] = (),
    environment: str | None = None,
) -> Iterator[Site]:
    """Every CEL expression in the repository, in file order, with its context."""
    toggles = toggles_schema(index, environment)
    fixed = (
        WORKFLOW_VARIABLES if toggles is not None else {**WORKFLOW_VARIABLES, "env": DYNAMIC_MAP}
    )
    for workflow in index.all("Workflow"):
        spec = workflow.spec
        input_schema = spec.input.schema_ if spec.input is not None else None
        for path, source, output in _workflow_expressions(index, spec):
            schemas = {"output": output, "input": input_schema}
            if toggles is not None:
                schemas["env"] = toggles
            yield Site(workflow, path, source, schemas, fixed)
    for policy in (*index.all("Policy"), *pack_policies):
        for i, rule in enumerate(policy.spec.rules):
            path = ("spec", "rules", i, "expr")
            yield Site(policy, path, rule.expr, {}, RULE_VARIABLES, float(MAX_NODES))


def toggles_schema(index: Index, environment: str | None) -> dict[str, Any] | None:
    """The JSON Schema of ``env`` in a workflow condition: the toggles of ``environment``, or
    of every environment the Project defines (a toggle any of them sets may be read; one with
    values of several types is dynamic). None, so ``env`` stays a dynamic map, when the Project
    defines no environment."""
    project = index.project
    environments = project.spec.environments if project is not None else {}
    chosen = [environments[environment]] if environment in environments else environments.values()
    if not chosen:
        return None
    seen: dict[str, set[str | None]] = {}
    for env in chosen:
        for name, value in env.toggles.items():
            seen.setdefault(name, set()).add(json_type_of(value))
    properties = {
        name: {"type": next(iter(kinds))} if len(kinds) == 1 else {}
        for name, kinds in sorted(seen.items())
    }
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _workflow_expressions(index: Index, spec: WorkflowSpec) -> Iterator[tuple[YamlPath, str, Any]]:
    """(path, expression, schema of ``output``) for each condition of a workflow."""
    if isinstance(spec, FsmWorkflow):
        for name, state in spec.states.items():
            output = (
                json.loads(APPROVAL_OUTPUT_SCHEMA)
                if isinstance(state, ApprovalState)
                else step_output_schema(index, state.output, state.tool)
            )
            for i, transition in enumerate(state.transitions or ()):
                if transition.condition is not None:
                    path = ("spec", "states", name, "transitions", i, "condition")
                    yield path, transition.condition, output
    elif isinstance(spec, BtWorkflow):
        found: list[tuple[YamlPath, str, Any]] = []
        _walk_tree(index, spec.root, ("spec", "root"), None, found, 0)
        yield from found


def step_output_schema(index: Index, output: JsonSchemaRef | None, tool: str | None) -> Any:
    """A step's output schema: its own ``output.schema``, else its tool's ``outputSchema``."""
    if output is not None:
        return output.schema_
    resource = index.get("Tool", tool) if tool is not None else None
    return resource.spec.output_schema if resource is not None else None


def _walk_tree(
    index: Index,
    node: BtNode,
    path: YamlPath,
    before: Any,
    found: list[tuple[YamlPath, str, Any]],
    depth: int,
) -> Any:
    """Collect the ``when``s below ``node``; returns the output schema after it runs.

    ``before`` is the schema of the output of the last action run before ``node`` (``None``
    when unknown). A sequence passes each child's output to the next; the branches of a
    selector, parallel or conditional selector all start from ``before``, and what follows
    them is dynamic, as any branch may have run last.
    """
    if depth > MAX_TREE_DEPTH:
        return None
    if isinstance(node, ActionN):
        return step_output_schema(index, node.action.output, node.action.tool)
    if isinstance(node, ConditionN):
        found.append(((*path, "condition", "when"), node.condition.when, before))
        return before
    if isinstance(node, SequenceN):
        current = before
        for i, child in enumerate(node.sequence):
            current = _walk_tree(index, child, (*path, "sequence", i), current, found, depth + 1)
        return current
    if isinstance(node, SelectorN):
        for i, child in enumerate(node.selector):
            _walk_tree(index, child, (*path, "selector", i), before, found, depth + 1)
    elif isinstance(node, ParallelN):
        for i, child in enumerate(node.parallel.children):
            at = (*path, "parallel", "children", i)
            _walk_tree(index, child, at, before, found, depth + 1)
    elif isinstance(node, ConditionalSelectorN):
        for i, guarded in enumerate(node.conditional_selector):
            at = (*path, "conditional_selector", i)
            if guarded.when is not None:
                found.append(((*at, "when"), guarded.when, before))
            _walk_tree(index, guarded.do, (*at, "do"), before, found, depth + 1)
    return None
