"""Evaluating checked CEL conditions: a plan's transitions and guards, a policy's rules.

Input: a condition's checked form (the serialized ``cel.expr.CheckedExpr`` the compiler wrote,
base64 in a plan file) and its variables as plain JSON values. Output: ``True`` or ``False``;
anything else (an evaluation error, a result that is not a bool) raises `ConditionError`, so a
condition that cannot answer never counts as either.

The engine is cel-expr-python, the one the compiler type-checked with (docs/conditions.md says
why celpy disagrees with it on numbers). A checked expression needs none of the schema messages
it was checked against: it loads into an environment whose variables are all ``dyn``, without
being parsed again. The engine is imported on first use, so reading a bundle costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class ConditionError(ValueError):
    """A condition gave no bool: the message says what it gave, or why it failed."""


class ConditionEvaluator:
    """Loads each checked expression once and evaluates it on JSON contexts."""

    def __init__(self, variables: Iterable[str]) -> None:
        from cel_expr_python import cel

        self._cel = cel
        self._env = cel.NewEnv(variables=dict.fromkeys(sorted(set(variables)), cel.Type.DYN))
        self._programs: dict[bytes, Any] = {}

    def evaluate(self, checked: bytes, context: Mapping[str, Any]) -> bool:
        """The condition's value on ``context`` (variable name → JSON value)."""
        program = self._programs.get(checked)
        if program is None:
            try:
                program = self._env.deserialize(checked)
            except Exception as error:  # not a checked expression of this engine
                raise ConditionError(f"not a checked CEL expression: {error}") from None
            self._programs[checked] = program
        try:
            result = program.eval(data=dict(context))
        except Exception as error:  # a value CEL cannot hold (an int beyond 64 bits)
            raise ConditionError(str(error)) from None
        if result.type() == self._cel.Type.ERROR:
            raise ConditionError(str(result))
        value = result.value()
        if isinstance(value, bool):
            return value
        raise ConditionError(f"it gave {type(value).__name__} {value!r}, not a bool")
