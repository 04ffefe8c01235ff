"""Where CEL is written and what each site compiles to: the keys, variables and compiled forms the
CEL stage hands to plans and rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.load.resource import Resource

ConditionKey = tuple[str, str, YamlPath]
"""(kind, resource name, path of the expression): ``("Workflow", "triage", ("spec", …))``."""

DYNAMIC_MAP = "map<string, dyn>"
WORKFLOW_VARIABLES = MappingProxyType({"state": DYNAMIC_MAP})
"""A workflow's variables that no schema types (``output``, ``input`` and ``env`` are typed)."""

RULE_VARIABLES = MappingProxyType(
    {"spec": DYNAMIC_MAP, "metadata": DYNAMIC_MAP, "kind": "string", "env": DYNAMIC_MAP}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledCondition:
    """A condition that parsed and type-checked: what a plan carries to the runtime."""

    file: str
    path: YamlPath
    source: str
    """The expression as written."""
    variables: tuple[tuple[str, str], ...]
    """Each variable with the CEL type it was checked against."""
    result_type: str
    checked: bytes
    """The engine's serialized ``cel.expr.CheckedExpr`` (in a ``google.protobuf.Any``):
    cel-expr-python loads it into an environment of plain ``dyn`` variables, without the
    schema messages it was checked against (docs/conditions.md)."""


@dataclass(frozen=True, slots=True)
class Site:
    """One expression to check, with the schemas that type its variables."""

    resource: Resource[object]
    path: YamlPath
    source: str
    schemas: Mapping[str, Any]
    """Variable → JSON Schema (``None``: dynamic), for ``output`` and ``input``."""
    fixed: Mapping[str, str]
    """Variable → CEL type, for the variables no schema types."""
    open_bound: float = math.inf
    """The size of a list or map that no schema bounds (for the cost estimate)."""
