"""A composed YAML document: plain data plus where every key and value stands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentflow.compiler.diagnostics.positions import FILE_START, Span, YamlPath

JSON = Any
"""Plain data as YAML gives it: dict, list, str, int, float, bool or None."""


@dataclass(frozen=True, slots=True)
class Document:
    """One resource file, composed, with positions."""

    file: str
    data: JSON
    value_spans: Mapping[YamlPath, Span]
    """Where each value starts (the root mapping at ``()``)."""
    key_spans: Mapping[YamlPath, Span]
    """Where the key of each mapping entry stands."""
    yaml11_booleans: frozenset[YamlPath] = frozenset()
    """Plain ``yes``/``no``/``on``/``off`` values: strings here, booleans to YAML 1.1."""
    rejected: frozenset[YamlPath] = frozenset()
    """Values the loader already reported (an alias, an unsupported tag): later stages skip them."""
    origin: str | None = None
    """For a rendered template asset: the instance file that produced it."""

    def span(self, path: YamlPath, *, key: bool = False) -> Span:
        """The position of ``path`` (its key when ``key``), else of its nearest known ancestor."""
        spans = (self.key_spans, self.value_spans) if key else (self.value_spans, self.key_spans)
        probe = tuple(path)
        while probe:
            for table in spans:
                if probe in table:
                    return table[probe]
            probe = probe[:-1]
        return self.value_spans.get((), FILE_START)

    def key_span(self, path: YamlPath) -> Span:
        return self.span(path, key=True)

    def is_rejected(self, path: YamlPath) -> bool:
        """Whether ``path`` is, or lies inside, a value the loader already reported."""
        return any(path[:i] in self.rejected for i in range(len(path) + 1))
