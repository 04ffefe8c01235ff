"""Rendered text → asset positions: where in a Jinja asset each rendered character came from.

Input: the asset's source, its parsed template, the Python lines the code generator noted for
each ``yield`` (`sandbox.LiteralOnlyCodeGenerator`), and the chunks `render.py` collects (each
with the Python line of the ``yield`` that produced it). Output: a `RenderMap` that turns a
(line, column) in the rendered text into a (line, column) in the asset.

How exact it is: the asset is tokenized with Jinja's own lexer, which gives every piece of
literal text (``data``, including ``{% raw %}`` content) and every ``{{`` its exact place in the
asset. The parser turns each literal piece into one `nodes.TemplateData` and each ``{{ … }}``
into one expression of an `nodes.Output`, in template order, so the nodes are placed by
walking the template in that order. A ``yield`` of literal text joins one or more pieces: each
rendered character maps to its own line and column, however often a loop repeats it and
whatever the tags before it rendered to. A value computed by an expression maps to where its
``{{`` starts. Anything else the template yields (an ``{% include %}``, a block, a macro's or
``{% call %}``'s output) maps to the first non-blank character of the line Jinja's debug
information names.

Jinja's lexer reads ``\\r\\n`` and ``\\r`` as ``\\n``; places are kept in that normalized text and
turned into asset positions line by line, so assets with any line endings map exactly.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from jinja2 import Environment, nodes

from agentflow.compiler.diagnostics.positions import Span

_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
"""PyYAML's line breaks, so that rendered line numbers agree with the loader's marks."""
_JINJA_BREAK = re.compile(r"\r\n|\r|\n")
"""Jinja's line breaks: the lexer joins the lines it splits at these with ``\\n``."""


@dataclass(frozen=True, slots=True)
class YieldSite:
    """What one ``yield`` of the compiled template outputs, placed in the (normalized) asset."""

    offset: int
    """Where it starts: the first character of literal text, or an expression's ``{{``."""
    pieces: tuple[tuple[int, int], ...] = ()
    """Literal text: (offset, length) of each piece it joins, so that each character maps to
    its own place; empty for a computed value, which maps to ``offset`` as a whole."""


class TextLines:
    """Offsets ↔ 1-based (line, column) in one text, with PyYAML's idea of a line break."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def span(self, offset: int) -> Span:
        line = bisect.bisect_right(self.starts, offset) - 1
        return Span(line + 1, offset - self.starts[line] + 1)

    def offset(self, span: Span) -> int:
        line = min(max(span.line, 1), len(self.starts)) - 1
        return self.starts[line] + max(span.column - 1, 0)

    def line_start(self, line: int) -> int:
        return self.starts[min(max(line, 1), len(self.starts)) - 1]


class AssetText:
    """The asset as written, and as Jinja's lexer reads it (every line break a ``\\n``)."""

    def __init__(self, text: str) -> None:
        self.lines = TextLines(text)
        self._starts = [0] + [m.end() for m in _JINJA_BREAK.finditer(text)]
        self.normalized = _JINJA_BREAK.sub("\n", text)
        self._normalized_starts = [0] + [
            index + 1 for index, char in enumerate(self.normalized) if char == "\n"
        ]

    def span(self, normalized: int) -> Span:
        """The asset position of an offset into the normalized text."""
        line = max(bisect.bisect_right(self._normalized_starts, normalized) - 1, 0)
        column = normalized - self._normalized_starts[line]
        return self.lines.span(min(self._starts[line] + column, len(self.lines.text)))

    def first_visible(self, line: int) -> int:
        """The normalized offset of the first non-blank character of a 1-based Jinja line."""
        start = self._normalized_starts[min(max(line, 1), len(self._normalized_starts)) - 1]
        text = self.normalized[start:].split("\n", 1)[0]
        return start + len(text) - len(text.lstrip())


@dataclass(frozen=True, slots=True)
class YieldSites:
    asset: AssetText
    by_line: Mapping[int, YieldSite]
    """Every ``yield`` of the compiled template by its Python line."""


def tokens(environment: Environment, asset: AssetText) -> Iterator[tuple[int, str, str]]:
    """(normalized offset, kind, text) of every token of Jinja's lexer, in order.

    The lexer gives lines only; each token's text is found from where the one before ended
    (between them there can only be blanks a ``-`` or ``lstrip_blocks`` stripped). An offset
    of -1 (never seen) means a token was not found, and nothing after it can be placed.
    Raises `TemplateSyntaxError` where the lexer does.
    """
    cursor = 0
    text = asset.normalized
    for _, kind, value in environment.lexer.tokeniter(text, None):
        found = text.find(value, cursor)
        yield found, kind, value
        if found < 0:
            return
        cursor = found + len(value)


def place_nodes(environment: Environment, asset: AssetText, tree: nodes.Template) -> dict[int, int]:
    """The normalized offset of every literal piece and every ``{{`` of ``tree``, by node id.

    Empty when the tokens and the nodes do not pair up (which Jinja's parser never does for a
    template it accepted); every yield then falls back to its line.
    """
    data: list[tuple[int, str]] = []
    variables: list[int] = []
    for offset, kind, value in tokens(environment, asset):
        if offset < 0:
            return {}
        if kind == "data":
            data.append((offset, value))
        elif kind == "variable_begin":
            variables.append(offset)
    places: dict[int, int] = {}
    pieces, expressions = iter(data), iter(variables)
    for output in tree.find_all(nodes.Output):  # depth first: template order
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                offset, value = next(pieces, (-1, ""))
                if value != child.data:
                    return {}
                places[id(child)] = offset
            else:
                offset = next(expressions, -1)
                if offset < 0:
                    return {}
                places[id(child)] = offset
    if next(pieces, None) is not None or next(expressions, None) is not None:
        return {}
    return places


def find_yield_sites(
    asset: AssetText,
    places: Mapping[int, int],
    python_source: str,
    line_of: Mapping[int, int],
    literal_yields: Mapping[int, Sequence[nodes.TemplateData]],
    expression_yields: Mapping[int, nodes.Node],
) -> YieldSites:
    """Every ``yield`` of the compiled template by its Python line, placed in the asset.

    ``line_of`` maps a Python line to the template line Jinja's debug information gives it;
    ``literal_yields`` and ``expression_yields`` are what the code generator noted.
    """
    sites: dict[int, YieldSite] = {}
    for number in _yield_lines(python_source):
        literal = literal_yields.get(number)
        expression = expression_yields.get(number)
        if literal and all(id(node) in places for node in literal):
            pieces = tuple((places[id(node)], len(node.data)) for node in literal)
            sites[number] = YieldSite(pieces[0][0], pieces)
        elif literal:
            sites[number] = YieldSite(asset.first_visible(literal[0].lineno))
        elif expression is not None and id(expression) in places:
            sites[number] = YieldSite(places[id(expression)])
        elif expression is not None:
            sites[number] = YieldSite(asset.first_visible(expression.lineno))
        else:
            sites[number] = YieldSite(asset.first_visible(line_of.get(number, 1)))
    return YieldSites(asset, MappingProxyType(sites))


def _yield_lines(python_source: str) -> list[int]:
    """The Python line of every ``yield`` statement, in source order."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(python_source))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Yield | ast.YieldFrom)
    )


@dataclass(frozen=True, slots=True)
class RenderMap:
    """Rendered positions → asset positions (see the module docstring for how exact)."""

    asset: AssetText
    rendered: TextLines
    offsets: Sequence[int]
    """Where each rendered chunk starts in the rendered text, ascending."""
    sites: Sequence[YieldSite]
    """The yield that produced each chunk."""

    def to_asset(self, span: Span) -> Span:
        offset = self.rendered.offset(span)
        if not self.offsets:
            return Span(1, 1)
        index = max(bisect.bisect_right(self.offsets, offset) - 1, 0)
        site = self.sites[index]
        delta = max(offset - self.offsets[index], 0)
        for start, length in site.pieces:
            if delta < length:
                return self.asset.span(start + delta)
            delta -= length
        if site.pieces:  # past the chunk's end (the end of the text): right after its last piece
            start, length = site.pieces[-1]
            return self.asset.span(start + length)
        return self.asset.span(site.offset)
