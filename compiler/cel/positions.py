"""Positions inside an expression → positions in the YAML file.             (part of AF5xx)

Input: an expression (the scalar's value), where that value starts in the file, and the file's
lines. Output: a `SourceMap` from offsets inside the expression to file positions. The raw text
is read again in the scalar's style (plain, single- or double-quoted with escapes, literal ``|``
or folded ``>`` block) and the characters it yields must spell the expression exactly; when they
do not (a template asset whose rendered text differs from the file, an unusual block header),
every offset maps to the start of the value, which is still the right line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from agentflow.compiler.diagnostics.positions import Span

_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
"""What PyYAML counts as a line break, so that line numbers agree with its marks."""
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}

Char = tuple[str, Span]


def split_lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


@dataclass(frozen=True, slots=True)
class SourceMap:
    value: Span
    """Where the scalar starts (its opening quote or block indicator)."""
    spans: tuple[Span, ...] = ()
    """One per expression character, plus the position just past the end; empty when the
    raw text could not be matched."""

    def at(self, offset: int) -> Span:
        if not self.spans:
            return self.value
        return self.spans[min(max(offset, 0), len(self.spans) - 1)]


def map_expression(expression: str, value: Span, lines: Sequence[str] | None) -> SourceMap:
    """Map ``expression``, the scalar whose value starts at ``value``, onto the file's lines."""
    if not lines or not 0 < value.line <= len(lines):
        return SourceMap(value)
    chars = list(islice(_scalar_chars(lines, value), len(expression) + 1))
    if "".join(c for c, _ in chars[: len(expression)]) != expression:
        return SourceMap(value)
    spans = [span for _, span in chars]
    if len(spans) == len(expression):  # nothing follows: just past the last character
        last = spans[-1] if spans else value
        spans.append(Span(last.line, last.column + 1))
    return SourceMap(value, tuple(spans))


def offset_of(expression: str, line: int, column: int) -> int:
    """The code-point offset of a 1-based line and column inside ``expression``."""
    rows = expression.split("\n")
    line = min(max(line, 1), len(rows))
    return sum(len(row) + 1 for row in rows[: line - 1]) + max(column, 1) - 1


def _scalar_chars(lines: Sequence[str], value: Span) -> Iterator[Char]:
    row, col = value.line - 1, value.column - 1
    first = lines[row][col : col + 1]
    if first in ("'", '"'):
        return _quoted(lines, row, col + 1, first)
    if first in ("|", ">"):
        return _block(lines, row, first == "|")
    return _plain(lines, row, col)


def _plain(lines: Sequence[str], row: int, col: int) -> Iterator[Char]:
    """A plain scalar: continuation lines fold into one space (a blank line into a newline)."""
    text = lines[row].split(" #", 1)[0].rstrip()
    yield from ((c, Span(row + 1, i + 1)) for i, c in enumerate(text) if i >= col)
    end, pending = Span(row + 1, len(text) + 1), " "
    for next_row in range(row + 1, len(lines)):
        content = lines[next_row].split(" #", 1)[0].rstrip()
        stripped = content.lstrip()
        if not stripped:
            pending = "\n" if pending == " " else pending + "\n"
            continue
        start = len(content) - len(stripped)
        yield from ((c, end) for c in pending)
        yield from ((c, Span(next_row + 1, start + i + 1)) for i, c in enumerate(stripped))
        end, pending = Span(next_row + 1, len(content) + 1), " "


def _quoted(lines: Sequence[str], row: int, col: int, quote: str) -> Iterator[Char]:
    """A quoted scalar; a line break inside the quotes folds into a space."""
    while row < len(lines):
        text, i, escaped_break = lines[row], col, False
        while i < len(text):
            c, here = text[i], Span(row + 1, i + 1)
            if c == quote:
                if quote == '"' or text[i + 1 : i + 2] != "'":
                    return
                yield "'", here  # '' inside single quotes
                i += 2
            elif c == "\\" and quote == '"':
                if i + 1 == len(text):
                    escaped_break = True
                    break
                char, width = _escape(text, i + 1)
                if char is None:
                    return
                yield char, here
                i += 1 + width
            else:
                yield c, here
                i += 1
        row += 1
        if row >= len(lines):
            return
        col = len(lines[row]) - len(lines[row].lstrip())
        if not escaped_break:
            yield " ", Span(row, len(text) + 1)


def _escape(text: str, i: int) -> tuple[str | None, int]:
    key = text[i]
    if key in _ESCAPES:
        return _ESCAPES[key], 1
    width = _HEX_ESCAPES.get(key)
    digits = text[i + 1 : i + 1 + width] if width else ""
    if width and len(digits) == width:
        try:
            return chr(int(digits, 16)), 1 + width
        except ValueError:
            return None, 0
    return None, 0


def _block(lines: Sequence[str], row: int, literal: bool) -> Iterator[Char]:
    """A ``|`` (each line break kept) or ``>`` (breaks fold into spaces) block scalar."""
    rows = range(row + 1, len(lines))
    indent = next(
        (len(lines[r]) - len(lines[r].lstrip(" ")) for r in rows if lines[r].strip()), None
    )
    if indent is None or indent == 0:
        return
    content = []
    for r in rows:
        if lines[r].strip() and len(lines[r]) - len(lines[r].lstrip(" ")) < indent:
            break
        content.append(r)
    for k, r in enumerate(content):
        text = lines[r][indent:]
        yield from ((c, Span(r + 1, indent + i + 1)) for i, c in enumerate(text))
        end = Span(r + 1, indent + len(text) + 1)
        following = content[k + 1] if k + 1 < len(content) else None
        if literal or not text.strip():
            yield "\n", end
        elif following is not None and lines[following].strip():
            yield " ", end
        elif following is None:
            yield "\n", end
