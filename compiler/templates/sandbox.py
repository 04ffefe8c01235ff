"""The Jinja environment template assets render in: sandboxed, strict and bounded.   (AF7xx)

`ImmutableSandboxedEnvironment` refuses attributes that start with ``_`` and Python internals,
and methods that mutate lists or dicts; on top of it this module makes every such refusal an
immediate error (Jinja's default hands back an undefined value that fails only when printed, so
``{% set x = ''.__class__ %}`` would pass silently), makes undefined variables errors
(`StrictUndefined`), reads templates only from the asset's own folder (no filesystem loader:
the files come from the snapshot), drops ``lipsum``, and bounds the operations that amplify
output in one step (``*``, ``**``, ``%``, padding, ``join``, ``replace``), because a single
C-level call cannot be interrupted by the render deadline.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sized
from io import StringIO
from typing import Any, NoReturn, cast

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT_CHARS = 1024 * 1024
"""A rendered asset is a resource file: no larger than the loader accepts (1 MiB)."""
MAX_ARGUMENT = 100_000
"""Widths and counts passed to string methods and filters; Jinja caps ``range`` the same."""
_WIDE_FORMAT = re.compile(r"[{%][^{}%]*?\d{6,}")
"""A format spec with a six-digit width or precision: ``'%9999999d'``, ``'{:>999999}'``."""


class FolderLoader(BaseLoader):
    """Templates by name relative to one folder, from in-memory files; nothing else exists."""

    def __init__(self, folder: str, files: Mapping[str, str]) -> None:
        self.folder = folder
        self.files = files

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.resolve(template)
        if path is None or path not in self.files:
            raise TemplateNotFound(template)
        return self.files[path], path, lambda: True

    def resolve(self, name: str) -> str | None:
        """The repo-relative path for ``name``, or None when it leaves the folder."""
        if name.startswith("/") or "\\" in name:
            return None
        path = posixpath.normpath(posixpath.join(self.folder, name))
        return path if path.startswith(self.folder + "/") else None


class LiteralOnlyCodeGenerator(CodeGenerator):
    """Compiles only literal template text to ``yield '<constant>'``, and notes what each
    ``yield`` of the output comes from.

    Jinja folds constant expressions (``{{ 30 + 60 }}``) into the surrounding text; keeping
    them as expressions lets `render_map` tell literal text from computed values. For each
    ``yield`` line of the generated Python it records the template nodes it outputs: the
    `nodes.TemplateData` whose text a constant joins (`literal_yields`), or the expression
    whose value it yields (`expression_yields`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.literal_yields: dict[int, tuple[nodes.TemplateData, ...]] = {}
        self.expression_yields: dict[int, nodes.Node] = {}
        self._constant: tuple[nodes.TemplateData, ...] | None = None

    def _output_child_to_const(
        self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo
    ) -> str:
        if not isinstance(node, nodes.TemplateData):
            raise nodes.Impossible()
        return _Literal(super()._output_child_to_const(node, frame, finalize), node)

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        items = list(group)
        literals = tuple(item.node for item in items if isinstance(item, _Literal))
        self._constant = literals if len(literals) == len(items) else None
        return super()._output_const_repr(items)

    def writeline(self, x: str, node: nodes.Node | None = None, extra: int = 0) -> None:
        constant, self._constant = self._constant, None
        super().writeline(x, node, extra)  # code_lineno is now the line x is written on
        if not x.startswith("yield "):
            return
        if constant is not None and x != "yield ":
            self.literal_yields[self.code_lineno] = constant
        elif x == "yield " and node is not None:
            self.expression_yields[self.code_lineno] = node


class _Literal(str):
    """A constant of literal text that remembers the template node it came from."""

    node: nodes.TemplateData

    def __new__(cls, value: str, node: nodes.TemplateData) -> _Literal:
        literal = super().__new__(cls, value)
        literal.node = node
        return literal


class Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})
    code_generator_class = LiteralOnlyCodeGenerator

    def __init__(self, loader: FolderLoader) -> None:
        super().__init__(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            optimized=False,  # no compile-time constant folding: literal text stays literal
            auto_reload=False,
            cache_size=0,
        )
        self.globals.pop("lipsum", None)
        self.filters = {name: _bounded(name, f) for name, f in self.filters.items()}

    def compile_asset(
        self, source: str, name: str
    ) -> tuple[nodes.Template, str, LiteralOnlyCodeGenerator]:
        """``source`` parsed, compiled to Python source as template ``name``, and the generator
        that wrote it (which notes what each ``yield`` outputs). Raises what `compile` raises."""
        tree = self.parse(source, name, name)
        generator = LiteralOnlyCodeGenerator(self, name, name, None, False, self.optimized)
        try:
            generator.visit(tree)
        except TemplateSyntaxError:  # e.g. an unknown filter, found while generating code
            self.handle_exception(source=source)
        return tree, cast(StringIO, generator.stream).getvalue(), generator

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of a {type(obj).__name__!r} object is not allowed"
        )

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**" and _is_int(left) and _is_int(right):
            if right > 0 and abs(left) > 1 and abs(left).bit_length() * right > 8 * MAX_ARGUMENT:
                _refuse(f"{left} ** {right} is too large a number")
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            _refuse("format widths above 99999 are not allowed")
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):  # a string method: ljust, center, format, replace, join, ...
            _check_arguments(args, kwargs)
            if _WIDE_FORMAT.search(owner) and getattr(target, "__name__", "") in (
                "format",
                "format_map",
            ):
                _refuse("format widths above 99999 are not allowed")
            name = getattr(target, "__name__", "")
            if name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
            elif name == "join" and args and isinstance(args[0], Sized):
                _check_length(len(args[0]) * len(owner))
        return _check_size(super().call(__context, __obj, *args, **kwargs))


def _bounded(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose arguments and result are bounded like `Sandbox.call`'s."""

    @functools.wraps(original)  # keeps Jinja's pass_context / pass_environment marker
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        texts = [a for a in args if isinstance(a, str)]
        if name == "format" and texts and _WIDE_FORMAT.search(texts[0]):
            _refuse("format widths above 99999 are not allowed")
        if name == "replace" and len(texts) >= 3:
            _check_replace(*texts[:3])
        if name in ("join", "indent") and len(texts) >= 2:
            pieces = texts[0].count("\n") + 1 if name == "indent" else 0
            _check_length(sum(map(len, texts)) + pieces * len(texts[1]))
        return _check_size(original(*args, **kwargs))

    return bounded


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if _is_int(value) and abs(value) > MAX_ARGUMENT:
            _refuse(f"arguments above {MAX_ARGUMENT} are not allowed (got {value})")


def _check_repeat(sequence: Any, count: Any) -> None:
    if isinstance(sequence, str | list | tuple) and _is_int(count):
        _check_length(len(sequence) * count)


def _check_replace(text: str, old: Any, new: Any) -> None:
    if isinstance(old, str) and isinstance(new, str):
        occurrences = len(text) + 1 if not old else text.count(old)
        _check_length(len(text) + occurrences * len(new))


def _check_length(length: int) -> None:
    if length > MAX_OUTPUT_CHARS:
        _refuse(f"a value of {length} characters is larger than a rendered asset may be")


def _check_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT_CHARS:
        _check_length(len(value))
    return value


def _refuse(message: str) -> NoReturn:
    raise SecurityError(message)
