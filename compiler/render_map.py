"""Rendered text → asset positions: where in a Jinja asset each rendered character came from.

Input: the asset's source, the compiled template's Python source, and the chunks `render.py`
yields (each with the Python line of the ``yield`` that produced it). Output: a `RenderMap`
that turns a (line, column) in the rendered text into a (line, column) in the asset.

How exact it is: Jinja compiles literal template text to ``yield '<constant>'`` and expressions
to ``yield str(...)``. Each constant is found in the asset once, ahead of rendering, in the
order the compiled code holds them (template order), so a character of literal text maps to
its own line and column exactly, however often a loop repeats it. A character produced by an
expression maps to where that expression starts (right after the literal text before it, on
the line Jinja's debug information names). Literal text Jinja does not compile verbatim (it is
never the case for plain text and ``{% raw %}`` blocks; it can be for text an extension emits)
falls back to that same expression position, which is still the right line or close to it.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .source import Span

_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
"""PyYAML's line breaks, so that rendered line numbers agree with the loader's marks."""
_RAW_TAG = re.compile(r"\{%-?\s*(?:raw|endraw)\s*-?%\}")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class YieldSite:
    """One ``yield`` of the compiled template: literal text, or the value of an expression."""

    offset: int
    """Where it starts in the asset (a character offset)."""
    plain: int | None = None
    """For literal text: where it starts in the asset without its raw tags, so that each
    character maps to its own place; None for an expression, whose value maps to ``offset``."""


@dataclass(frozen=True, slots=True)
class YieldSites:
    by_line: Mapping[int, YieldSite]
    """Every ``yield`` of the compiled template by its Python line."""
    plain_to_asset: _OffsetMap


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


def find_yield_sites(asset_text: str, python_source: str, line_of: Mapping[int, int]) -> YieldSites:
    """Every ``yield`` of the compiled template by its Python line, placed in the asset.

    ``line_of`` maps a Python line to the template line Jinja's debug information gives it.
    """
    lines = TextLines(asset_text)
    plain, plain_to_asset = _without_raw_tags(asset_text)
    sites: dict[int, YieldSite] = {}
    cursor = 0  # in ``plain``: literal text appears in the compiled code in template order
    for number, constant in _yields(python_source):
        hint = lines.line_start(line_of.get(number, 1))
        if constant is not None:
            found = plain.find(constant, cursor)
            if found >= 0 and not _TAG.sub("", plain[cursor:found]).strip():
                cursor = found + len(constant)
                sites[number] = YieldSite(plain_to_asset(found), plain=found)
                continue
        # An expression starts where the literal text before it ends, when that is on the
        # line Jinja names; otherwise at the first non-blank character of that line.
        end = plain_to_asset(cursor)
        if lines.span(end).line == lines.span(hint).line and end >= hint:
            sites[number] = YieldSite(end)
        else:
            line_text = asset_text[hint:].split("\n", 1)[0]
            sites[number] = YieldSite(hint + len(line_text) - len(line_text.lstrip()))
    return YieldSites(MappingProxyType(sites), plain_to_asset)


def _yields(python_source: str) -> list[tuple[int, str | None]]:
    """(Python line, the constant or None) of every ``yield`` statement, in source order."""
    found = []
    for node in ast.walk(ast.parse(python_source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Yield | ast.YieldFrom):
            value = node.value.value
            is_text = isinstance(node.value, ast.Yield) and isinstance(value, ast.Constant)
            constant = value.value if is_text and isinstance(value, ast.Constant) else None
            found.append((node.lineno, constant if isinstance(constant, str) else None))
    return sorted(found)


def _without_raw_tags(text: str) -> tuple[str, _OffsetMap]:
    """The asset without ``{% raw %}``/``{% endraw %}`` tags, whose content Jinja emits as-is."""
    pieces: list[str] = []
    starts: list[tuple[int, int]] = []  # (offset in plain, offset in text)
    position = length = 0
    for match in _RAW_TAG.finditer(text):
        starts.append((length, position))
        pieces.append(text[position : match.start()])
        length += match.start() - position
        position = match.end()
    starts.append((length, position))
    pieces.append(text[position:])
    return "".join(pieces), _OffsetMap(tuple(starts))


@dataclass(frozen=True, slots=True)
class _OffsetMap:
    starts: tuple[tuple[int, int], ...]

    def __call__(self, offset: int) -> int:
        index = bisect.bisect_right(self.starts, (offset, float("inf"))) - 1
        plain_start, text_start = self.starts[max(index, 0)]
        return text_start + offset - plain_start


@dataclass(frozen=True, slots=True)
class RenderMap:
    """Rendered positions → asset positions (see the module docstring for how exact)."""

    asset: TextLines
    rendered: TextLines
    offsets: Sequence[int]
    """Where each rendered chunk starts in the rendered text, ascending."""
    sites: Sequence[YieldSite]
    """The yield that produced each chunk."""
    plain_to_asset: _OffsetMap

    def to_asset(self, span: Span) -> Span:
        offset = self.rendered.offset(span)
        if not self.offsets:
            return Span(1, 1)
        index = max(bisect.bisect_right(self.offsets, offset) - 1, 0)
        site = self.sites[index]
        if site.plain is not None:
            delta = max(offset - self.offsets[index], 0)
            return self.asset.span(self.plain_to_asset(site.plain + delta))
        return self.asset.span(site.offset)
