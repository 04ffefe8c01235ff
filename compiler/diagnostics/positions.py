"""Positions: where something stands in a source file (`Span`) and inside a document (`YamlPath`).

Every stage speaks of places in these two terms, so they sit below all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

PathKey = str | int
YamlPath = tuple[PathKey, ...]
"""Where a value is inside a YAML document: its keys and list indexes from the root,
``("spec", "states", "classify", "agent")``. Not a file-system path."""


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A 1-based position in a source file."""

    line: int
    column: int


FILE_START = Span(1, 1)
