"""The CEL engine: cel-expr-python (Google's C++ CEL) with AgentFlow's environment.   (AF5xx)

Input: an expression and the CEL types of its variables. Output: the checked expression
(a serialized ``cel.expr.CheckedExpr``) and its result type, or the engine's positioned errors
(`EngineError`, parse errors told apart from type errors). One `Engine` serves one compilation
and builds one environment per distinct set of variable types.

The environment is standard CEL plus the ``strings`` extension, with one change: numbers compare
naturally. Standard CEL's checker rejects ``output.confidence >= 1`` on a double (``double`` vs
``int``), although its runtimes compare across numeric types. So the comparison, equality and
``in`` operators are declared again with the cross-numeric overloads the runtime already
implements (cel-go offers the same as its ``CrossTypeNumericComparisons`` option).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

from agentflow.compiler.cel.schema_types import SchemaTypes
from agentflow.compiler.cel.syntax import canonical_checked

_NUMBERS = (("int64", "int"), ("uint64", "uint"), ("double", "double"))
_ORDERED = (
    *_NUMBERS,
    ("bool", "bool"),
    ("string", "string"),
    ("bytes", "bytes"),
    ("timestamp", "google.protobuf.Timestamp"),
    ("duration", "google.protobuf.Duration"),
)
_COMPARISONS = {"_<_": "less", "_<=_": "less_equals", "_>_": "greater", "_>=_": "greater_equals"}
_EQUALITIES = {"_==_": "equals", "_!=_": "not_equals"}

FUNCTIONS = frozenset(
    "size contains startsWith endsWith matches int uint double string bytes bool duration "
    "timestamp dyn type has all exists exists_one map filter getFullYear getMonth getDate "
    "getDayOfMonth getDayOfWeek getDayOfYear getHours getMinutes getSeconds getMilliseconds "
    "charAt indexOf lastIndexOf lowerAscii upperAscii replace split substring trim join format "
    "reverse".split()
)
"""Every function the environment declares, for did-you-mean hints."""

_ERROR = re.compile(r"ERROR: <input>:(-?\d+):(-?\d+): (.*)$", re.MULTILINE)
_STATUS = re.compile(r"^[A-Z_]+: | \[[A-Z_]+\]$")


@dataclass(frozen=True, slots=True)
class EngineError:
    line: int
    """1-based, inside the expression."""
    column: int
    """1-based, in code points, inside the expression's line."""
    message: str
    syntax: bool
    """A parse error (the expression is not CEL), rather than a type-checking one."""


@dataclass(frozen=True, slots=True)
class Checked:
    result_type: str
    """The CEL type of the result, as the engine names it: ``BOOL``, ``DYN``, ``STRING``."""
    serialized: bytes
    """``google.protobuf.Any`` holding a ``cel.expr.CheckedExpr``, canonical: the same
    expression and types give the same bytes."""


def _overload(overload_id: str, first: str, second: str) -> str:
    return (
        f"      - id: {overload_id}\n"
        f"        args: [{first}, {second}]\n"
        "        return: {type_name: bool}\n"
    )


def _type(name: str, *params: str) -> str:
    if name in ("A", "B"):
        return f"{{type_name: {name}, is_type_param: true}}"
    return (
        f"{{type_name: {name}, params: [{', '.join(params)}]}}"
        if params
        else (f"{{type_name: {name}}}")
    )


def _numeric_operators() -> str:
    """Environment config: comparisons, equality and ``in``, with cross-numeric overloads."""
    lines = ["stdlib:\n  exclude_functions:\n"]
    lines += [f'    - name: "{op}"\n' for op in (*_COMPARISONS, *_EQUALITIES, "@in")]
    lines.append("functions:\n")
    for op, stem in _COMPARISONS.items():
        lines.append(f'  - name: "{op}"\n    overloads:\n')
        for short, type_name in _ORDERED:
            lines.append(_overload(f"{stem}_{short}", _type(type_name), _type(type_name)))
        lines += _cross_numeric(stem, _type)
    for op, stem in _EQUALITIES.items():
        lines.append(f'  - name: "{op}"\n    overloads:\n')
        lines.append(_overload(stem, _type("A"), _type("A")))
        lines += _cross_numeric(stem, _type)
    lines.append('  - name: "@in"\n    overloads:\n')
    lines.append(_overload("in_list", _type("A"), _type("list", _type("A"))))
    lines.append(_overload("in_map", _type("A"), _type("map", _type("A"), _type("B"))))
    lines += _cross_numeric("in_list", lambda name: _type("list", _type(name)))
    return "".join(lines)


def _cross_numeric(stem: str, second: Callable[[str], str]) -> list[str]:
    return [
        _overload(f"{stem}_{a}_{b}", _type(a_type), second(b_type))
        for a, a_type in _NUMBERS
        for b, b_type in _NUMBERS
        if a != b
    ]


class Engine:
    """Compiles expressions against declared variable types."""

    def __init__(self, types: SchemaTypes) -> None:
        self._types = types
        self._pool: Any = None
        self._pool_generation = -1
        self._config = cel.NewEnvConfigFromYaml(_numeric_operators())
        self._envs: dict[tuple[tuple[str, str], ...], Any] = {}

    def compile(
        self, expression: str, variables: Mapping[str, str]
    ) -> Checked | tuple[EngineError, ...]:
        """Parse and type-check ``expression``; variables map names to CEL type signatures."""
        env = self._env(variables)
        try:
            checked = env.compile(expression)
            serialized = canonical_checked(checked.serialize())
            return Checked(checked.return_type().name(), serialized)
        except Exception as error:  # the engine raises RuntimeError with positioned messages
            failure = str(error)
        try:  # parsing alone tells syntax errors (macros included) from type errors
            env.compile(expression, disable_check=True)
        except Exception as error:
            return parse_errors(str(error), syntax=True)
        return parse_errors(failure, syntax=False)

    def _env(self, variables: Mapping[str, str]) -> Any:
        if self._pool_generation != self._types.generation:  # new messages: a new pool
            self._pool, self._pool_generation = self._types.pool(), self._types.generation
            self._envs.clear()
        key = tuple(sorted(variables.items()))
        env = self._envs.get(key)
        if env is None:
            env = cel.NewEnv(
                self._pool,
                config=self._config,
                variables={name: cel.Type(signature) for name, signature in key},
                extensions=[ext_strings.ExtStrings()],
            )
            self._envs[key] = env
        return env


def parse_errors(text: str, *, syntax: bool) -> tuple[EngineError, ...]:
    """The engine's ``ERROR: <input>:line:col: message`` lines; unpositioned text at 1:1."""
    errors = tuple(
        EngineError(max(int(line), 1), max(int(column), 1), _STATUS.sub("", message), syntax)
        for line, column, message in _ERROR.findall(text)
    )
    if errors:
        return errors
    return (EngineError(1, 1, _STATUS.sub("", text.strip().splitlines()[0]), syntax),)
