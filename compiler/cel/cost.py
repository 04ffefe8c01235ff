"""Cost bound: comprehensions over lists whose size nothing bounds.          AF506, AF507

Input: a `CheckedAst` and the JSON Schema of each typed variable. Output: findings, each at the
comprehension (``all``, ``exists``, ``exists_one``, ``map``, ``filter``) it is about.

A comprehension's range is bounded when its size is known at compile time: a list literal, or a
list whose schema sets ``maxItems`` (a map: ``maxProperties``), or the result of ``map``/
``filter`` over a bounded range. Everything else (``state``, ``env``, an open schema, a string's
``split()``) is unbounded. The iterations of a comprehension are the product of its range and
the ranges of the comprehensions around it:

- one unbounded factor: a warning (AF506), as the cost grows with the data;
- two or more unbounded factors (nested comprehensions over unbounded lists), or a bounded
  product above `MAX_ITERATIONS`: an error (AF507), as Kubernetes rejects admission expressions
  whose estimated cost exceeds its limit.

When an expression has an AF507, its AF506 findings are left out: one problem, one report.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentflow.compiler.cel.schema_types import json_type
from agentflow.compiler.cel.syntax import CheckedAst, Expr

MAX_ITERATIONS = 1_000_000
"""Kubernetes' per-expression cost limit for admission policies, in iterations."""

Bound = float
"""A size: ``math.inf`` when nothing bounds it."""


@dataclass(frozen=True, slots=True)
class CostFinding:
    expr_id: int
    """The comprehension's id; its source offset is the macro call's ``(``."""
    severe: bool
    """AF507 (error) rather than AF506 (warning)."""
    range_text: str
    """The range as CEL writes it (``output.items``), or empty when it is not a path."""
    iterations: Bound
    nesting: int
    keyword: str | None = "maxItems"
    """What would bound the range in its schema: ``maxItems``, ``maxProperties`` for a map,
    ``None`` when no schema types the range."""


def estimate_cost(
    ast: CheckedAst, schemas: Mapping[str, Any], open_bound: Bound = math.inf
) -> tuple[CostFinding, ...]:
    """Findings for one checked expression; ``schemas`` types the variables (``None``: dyn).

    ``open_bound`` is the size of a list or map that no schema bounds: unbounded for a
    workflow's data, the loader's bound on a document for a Policy rule over a resource.
    """
    findings = list(_visit(ast.root, dict(schemas), (), open_bound))
    if any(f.severe for f in findings):
        return tuple(f for f in findings if f.severe)
    return tuple(findings)


def _visit(
    expr: Expr, scope: dict[str, Any], enclosing: tuple[Bound, ...], open_bound: Bound
) -> Iterator[CostFinding]:
    if expr.kind != "comprehension" or expr.operand is None:
        for child in (expr.operand, *expr.args):
            if child is not None:
                yield from _visit(child, scope, enclosing, open_bound)
        return
    yield from _visit(expr.operand, scope, enclosing, open_bound)
    bound = range_bound(expr.operand, scope, open_bound)
    factors = (*enclosing, bound)
    unbounded = sum(1 for f in factors if math.isinf(f))
    iterations = math.prod(factors)
    schema = schema_of(expr.operand, scope, open_bound)
    kind = json_type(schema)[0]
    keyword = {"array": "maxItems", "object": "maxProperties"}.get(kind or "")
    severe = unbounded >= 2 or (unbounded == 0 and iterations > MAX_ITERATIONS)
    if severe or math.isinf(bound):
        text = path_text(expr.operand)
        yield CostFinding(expr.id, severe, text, iterations, len(factors), keyword)
    inner = dict(scope)
    inner[expr.name] = element_schema(schema)
    accu_init, loop_condition, loop_step, result = expr.args
    yield from _visit(accu_init, scope, enclosing, open_bound)
    for body in (loop_condition, loop_step):
        yield from _visit(body, inner, factors, open_bound)
    yield from _visit(result, scope, enclosing, open_bound)


def range_bound(expr: Expr, scope: Mapping[str, Any], open_bound: Bound = math.inf) -> Bound:
    if expr.kind == "list":
        return float(len(expr.args))
    schema = schema_of(expr, scope, open_bound)
    kind = json_type(schema)[0]
    limit = {"array": "maxItems", "object": "maxProperties"}.get(kind or "")
    value = schema.get(limit) if limit and isinstance(schema, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return open_bound


def schema_of(expr: Expr, scope: Mapping[str, Any], open_bound: Bound = math.inf) -> Any:
    """The JSON Schema of a value, as far as a path from a typed variable tells; else None."""
    if expr.kind == "ident":
        return scope.get(expr.name)
    if expr.kind == "select" and expr.operand is not None and not expr.test_only:
        parent = schema_of(expr.operand, scope, open_bound)
        properties = parent.get("properties") if isinstance(parent, dict) else None
        return properties.get(expr.name) if isinstance(properties, dict) else None
    if expr.kind == "call" and expr.name == "_[_]" and len(expr.args) == 2:
        return element_schema(schema_of(expr.args[0], scope, open_bound))
    if expr.kind == "list":
        return {"type": "array", "maxItems": len(expr.args)}
    if expr.kind == "comprehension" and expr.operand is not None and _builds_list(expr):
        bound = range_bound(
            expr.operand, scope, open_bound
        )  # map() and filter() keep at most as many
        return {"type": "array"} if math.isinf(bound) else {"type": "array", "maxItems": int(bound)}
    return None


def element_schema(schema: Any) -> Any:
    if json_type(schema)[0] == "array":
        items = schema.get("items")
        return items if isinstance(items, dict) else None
    return None


def _builds_list(expr: Expr) -> bool:
    """``map`` and ``filter`` start from an empty list and return it."""
    accu_init, _, _, result = expr.args
    return accu_init.kind == "list" and result.kind == "ident" and result.name == expr.accumulator


def path_text(expr: Expr) -> str:
    """``output.items`` for a path of field selections from a variable, else ``""``."""
    if expr.kind == "ident":
        return expr.name
    if expr.kind == "select" and expr.operand is not None:
        parent = path_text(expr.operand)
        return f"{parent}.{expr.name}" if parent else ""
    return ""
