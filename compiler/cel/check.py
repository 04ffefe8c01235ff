"""CEL checks: compile each site, turn the engine's verdicts into diagnostics.   AF501–AF507

Input: the `Site`s `conditions` found. Output: diagnostics, each at the expression's line and
at the column inside it that the engine names, and the compiled conditions. The engine's
messages speak CEL and protobuf (``undefined field 'x' not found in struct
'agentflow.schema.t…M0'``); here they are said again in the user's terms, with a hint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from agentflow.compiler.cel.cost import MAX_ITERATIONS, CostFinding, estimate_cost
from agentflow.compiler.cel.engine import FUNCTIONS, Checked, Engine, EngineError
from agentflow.compiler.cel.positions import map_expression, offset_of, split_lines
from agentflow.compiler.cel.schema_types import PACKAGE, SchemaTypes
from agentflow.compiler.cel.sites import CompiledCondition, ConditionKey, Site
from agentflow.compiler.cel.syntax import decode_checked
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.codes import Code
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.source.snapshot import Snapshot

_UNDEFINED_FIELD = re.compile(r"undefined field '([^']*)' not found in struct '([^']*)'")
_UNDECLARED = re.compile(r"undeclared reference to '([^']*)'")
_NO_OVERLOAD = re.compile(r"found no matching overload for '([^']*)' applied to '\((.*)\)'")
_NOT_SELECTABLE = re.compile(r"expression of type '([^']*)' cannot be the operand of a select")
_CASCADE = "*error*"
_MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
_MACRO_HINT = (
    "all, exists, exists_one and filter take (variable, condition); map takes "
    "(variable, expression) or (variable, condition, expression); has takes a field: has(a.b)"
)
_LIMIT = re.compile(r"recursion limit|recursion depth|codepoint limit", re.IGNORECASE)
_EXPECTING = re.compile(r" expecting (\{[^}]*\}|\S+)")
_WRAPPER = re.compile(r"wrapper\((\w+)\)")
_MESSAGE = re.compile(re.escape(PACKAGE) + r"\.t[0-9a-f]+\.M[0-9]+")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

_COMPARISONS = {"_==_": "==", "_!=_": "!=", "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">="}
_ARITHMETIC = {"_+_": "+", "_-_": "-", "_*_": "*", "_/_": "/", "_%_": "%", "-_": "-"}
_LOGICAL = {"_&&_": "&&", "_||_": "||", "!_": "!"}
_NUMBERS = frozenset({"int", "uint", "double"})
_FUNCTION_HINTS = {
    "len": "size",
    "length": "size",
    "count": "size",
    "lower": "lowerAscii",
    "tolower": "lowerAscii",
    "toLowerCase": "lowerAscii",
    "upper": "upperAscii",
    "toupper": "upperAscii",
    "toUpperCase": "upperAscii",
    "startswith": "startsWith",
    "endswith": "endsWith",
    "str": "string",
    "float": "double",
    "includes": "contains",
    "strip": "trim",
    "any": "exists",
    "every": "all",
    "match": "matches",
    "regex": "matches",
}


@dataclass(frozen=True, slots=True)
class _Finding:
    code: Code
    offset: int
    message: str
    hint: str | None = None


def check_sites(
    sites: Sequence[Site], report: Report, snapshot: Snapshot | None
) -> Mapping[ConditionKey, CompiledCondition]:
    """Compile every site; report what fails; return what compiled, by (kind, name, path)."""
    types = SchemaTypes()
    declared = [(site, _declare(site, types)) for site in sites]
    engine = Engine(types)  # after every declaration: one descriptor pool for them all
    texts = _Texts(snapshot)
    compiled: dict[ConditionKey, CompiledCondition] = {}
    for site, variables in declared:
        result = engine.compile(site.source, variables)
        if isinstance(result, Checked):
            findings = _check_compiled(site, result)
        else:
            findings = _explain_errors(site, result, types, variables)
        if findings:
            file = site.resource.file
            value = site.resource.doc.span(site.path)
            source_map = map_expression(site.source, value, texts.lines(file))
            for f in findings:
                report.add(f.code, file, source_map.at(f.offset), f.message, hint=f.hint)
        if isinstance(result, Checked) and all(f.code.severity != "error" for f in findings):
            key = (site.resource.kind, site.resource.name, site.path)
            compiled.setdefault(
                key,
                CompiledCondition(
                    file=site.resource.file,
                    path=site.path,
                    source=site.source,
                    variables=tuple(sorted(variables.items())),
                    result_type=result.result_type,
                    checked=result.serialized,
                ),
            )
    return MappingProxyType(compiled)


def _declare(site: Site, types: SchemaTypes) -> dict[str, str]:
    variables = dict(site.fixed)
    for name, schema in site.schemas.items():
        variables[name] = types.declare(name, schema)
    return variables


class _Texts:
    """File lines from the snapshot, decoded only for files with something to report."""

    def __init__(self, snapshot: Snapshot | None) -> None:
        self._files = {f.path: f for f in snapshot.files} if snapshot is not None else {}
        self._lines: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            source = self._files.get(path)
            try:
                text = source.data.decode("utf-8-sig") if source is not None else None
            except UnicodeDecodeError:
                text = None
            self._lines[path] = split_lines(text) if text is not None else None
        return self._lines[path]


def _check_compiled(site: Site, checked: Checked) -> list[_Finding]:
    findings = []
    result = checked.result_type
    if result not in ("BOOL", "DYN"):
        what = "a rule's expr" if site.resource.kind == "Policy" else "a condition"
        findings.append(
            _Finding(
                codes.CEL_NOT_BOOLEAN,
                0,
                f"{what} must be a bool, but this expression is {_article(_type_text(result))}",
                _not_boolean_hint(result, site.resource.kind == "Policy"),
            )
        )
    try:
        ast = decode_checked(checked.serialized)
    except (ValueError, IndexError, RecursionError):  # an unexpected form: no cost estimate
        return findings
    for cost in estimate_cost(ast, site.schemas, site.open_bound):
        offset = ast.positions.get(cost.expr_id, 0)
        findings.append(_cost_finding(site.source, offset, cost))
    return findings


def _not_boolean_hint(result: str, rule: bool) -> str:
    kind = result.lower()
    if kind == "string":
        return "compare it, e.g. " + ("kind == 'Tool'" if rule else "output.intent == 'question'")
    if kind in ("int", "uint", "double"):
        return "compare it, e.g. " + ("size(spec.tools) < 5" if rule else "output.score >= 0.8")
    if kind.startswith(("list", "map")) or "." in result:
        return "test it, e.g. " + ("has(spec.timeout)" if rule else "size(output.items) > 0")
    return "compare it with a value of its type to make a bool"


def _cost_finding(source: str, offset: int, cost: CostFinding) -> _Finding:
    macro, start = _macro_at(source, offset)
    over = cost.range_text or "a list"
    if not cost.severe:
        if cost.keyword is not None:
            bound_by = f"which has no {cost.keyword}"
            hint = f"set {cost.keyword} on {over} in its schema"
        else:
            bound_by = "whose size no schema bounds"
            hint = "iterate over a list whose schema sets maxItems, or over a list literal"
        return _Finding(
            codes.CEL_UNBOUNDED,
            start,
            f"'{macro}()' iterates over {over}, {bound_by}, so its cost grows with the data",
            hint,
        )
    if cost.iterations == float("inf"):
        return _Finding(
            codes.CEL_TOO_COSTLY,
            start,
            f"'{macro}()' is nested in another comprehension and iterates over "
            f"{over}: with unbounded lists, its cost grows with the product of "
            "their sizes",
            f"bound the lists with maxItems (their product must stay under "
            f"{MAX_ITERATIONS:,} iterations), or avoid nesting",
        )
    return _Finding(
        codes.CEL_TOO_COSTLY,
        start,
        f"'{macro}()' may iterate {int(cost.iterations):,} times "
        f"(nested {cost.nesting} deep), more than the limit of {MAX_ITERATIONS:,}",
        "lower maxItems on the lists it iterates over, or avoid nesting",
    )


def _macro_at(source: str, offset: int) -> tuple[str, int]:
    """The macro whose ``(`` is at ``offset``, and where its name starts."""
    match = re.search(rf"({_IDENT})\s*$", source[:offset])
    if match is None:
        return "comprehension", offset
    return match.group(1), match.start(1)


def _explain_errors(
    site: Site, errors: Sequence[EngineError], types: SchemaTypes, variables: Mapping[str, str]
) -> list[_Finding]:
    syntax = [e for e in errors if e.syntax]
    if syntax:  # the first one; the rest follow from it
        e = syntax[0]
        message = _EXPECTING.sub("", e.message.removeprefix("Syntax error: "))
        message = message.replace("mismatched input '<EOF>'", "unexpected end of expression")
        if _LIMIT.search(message):
            message = f"the expression is too large or nests too deeply ({message})"
        return [
            _Finding(
                codes.CEL_SYNTAX,
                offset_of(site.source, e.line, e.column),
                f"CEL syntax error: {message}",
            )
        ]
    for e in errors:  # a macro given the wrong arguments: the other errors are its echoes
        match = _UNDECLARED.search(e.message)
        if match and match.group(1) in _MACROS:
            macro = match.group(1)
            at = _locate(site.source, offset_of(site.source, e.line, e.column), macro)
            message = f"{macro}() is given the wrong number of arguments"
            return [_Finding(codes.CEL_TYPE_MISMATCH, at, message, _MACRO_HINT)]
    # "*error*" marks a value whose type an earlier error left unknown: not a new problem.
    return [_explain(site.source, e, types, variables) for e in errors if _CASCADE not in e.message]


def _explain(
    source: str, error: EngineError, types: SchemaTypes, variables: Mapping[str, str]
) -> _Finding:
    offset = offset_of(source, error.line, error.column)
    if match := _UNDEFINED_FIELD.search(error.message):
        field, struct = match.groups()
        info = types.messages.get(struct)
        owner = _owner(info.display) if info is not None else _type_text(struct, types)
        return _Finding(
            codes.CEL_UNKNOWN_FIELD,
            _locate(source, offset, field),
            f"{owner} has no field '{field}'",
            did_you_mean(field, info.fields) if info is not None else None,
        )
    if match := _UNDECLARED.search(error.message):
        name = match.group(1).split(".")[0]
        at = _locate(source, offset, name)
        if re.match(r"\s*\(", source[at + len(name) :]):
            better = _FUNCTION_HINTS.get(name)
            hint = (
                f"CEL's function for this is {better}()"
                if better
                else did_you_mean(name, FUNCTIONS)
            )
            return _Finding(codes.CEL_UNDECLARED, at, f"unknown function '{name}()'", hint)
        return _Finding(
            codes.CEL_UNDECLARED, at, f"unknown variable '{name}'", did_you_mean(name, variables)
        )
    if match := _NO_OVERLOAD.search(error.message):
        function, args = match.group(1), _split_args(match.group(2))
        names = [_type_text(a, types) for a in args]
        if source[offset : offset + 1] == "(":  # a call: point at the function's name
            offset = _macro_at(source, offset)[1]
        return _Finding(codes.CEL_TYPE_MISMATCH, offset, *_overload_message(function, names))
    if match := _NOT_SELECTABLE.search(error.message):
        kind = _type_text(match.group(1), types)
        return _Finding(
            codes.CEL_TYPE_MISMATCH,
            offset,
            f"type mismatch: {_article(kind)} has no fields to select",
        )
    return _Finding(codes.CEL_TYPE_MISMATCH, offset, error.message)


def _overload_message(function: str, args: list[str]) -> tuple[str, str | None]:
    """Message and hint for "no matching overload": the operator and types, in words."""
    shown = " and ".join(args)
    if op := _COMPARISONS.get(function):
        return f"type mismatch: '{op}' cannot compare {shown}", _comparison_hint(args)
    if op := _ARITHMETIC.get(function):
        mixed = "double" in args and ("int" in args or "uint" in args)
        return f"type mismatch: '{op}' cannot be applied to {shown}", (
            "CEL does not mix int and double in arithmetic: convert with double() or int()"
            if mixed
            else None
        )
    if op := _LOGICAL.get(function):
        return (
            f"type mismatch: '{op}' needs bools, not {shown}",
            "compare the value to make a bool, e.g. output.count > 0",
        )
    if function == "_?_:_" and len(args) == 3:
        if args[0] not in ("bool", "dyn"):
            return f"type mismatch: the condition of '? :' must be a bool, not {args[0]}", None
        return (
            f"type mismatch: the branches of '? :' have different types, {args[1]} and {args[2]}",
            "give both branches one type",
        )
    if function == "_[_]":
        return f"type mismatch: cannot index {' with '.join(args)}", (
            "read a typed object's fields with '.', e.g. output.field"
            if args and args[0].startswith("object")
            else None
        )
    if function == "@in":
        return f"type mismatch: 'in' cannot look for {shown}", None
    return f"type mismatch: {function}() cannot be applied to ({', '.join(args)})", (
        "size() takes a string, bytes, list or map" if function == "size" else None
    )


def _comparison_hint(args: list[str]) -> str:
    kinds = {a.removesuffix(" or null") for a in args}
    if "string" in kinds and kinds & _NUMBERS:
        return (
            "one side is a string and the other a number: check the field's type in its "
            "schema, or convert with string() or double()"
        )
    if "null" in kinds:
        return "to test whether a field is set, use has(output.field)"
    if any(a.startswith("object") for a in args):
        return "compare the object's fields, e.g. output.field == 'value'"
    return "compare values of one type; numbers (int, uint, double) compare with each other"


def _owner(display: str) -> str:
    """``output.top[]`` → ``an item of output.top``."""
    return f"an item of {display[:-2]}" if display.endswith("[]") else display


def _split_args(text: str) -> list[str]:
    """``double, map(string, dyn)`` → its two types (commas inside parentheses stay)."""
    args, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
    args.append(text[start:].strip())
    return [a for a in args if a]


def _type_text(name: str, types: SchemaTypes | None = None) -> str:
    """An engine type name as a user reads it: ``wrapper(string)`` → ``string or null``."""
    if types is not None and name in types.messages:
        return f"object ({_owner(types.messages[name].display)})"
    text = _WRAPPER.sub(r"\1 or null", _MESSAGE.sub("object", name))
    return text.lower().replace("null_type", "null")


def _article(text: str) -> str:
    return ("an " if text[:1] in "aeiou" else "a ") + text


def _locate(source: str, offset: int, word: str) -> int:
    """The start of the occurrence of ``word`` closest to ``offset`` (else ``offset``)."""
    starts = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", source)]
    if not starts:
        return offset
    return min(starts, key=lambda s: (abs(s - offset), -s))
