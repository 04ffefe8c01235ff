"""Diagnostics are data: one frozen type, collected by a `Report`, sorted and rendered last.

Every stage reports into the same `Report` and keeps going, so a user sees every problem in one
run. Nothing here raises for bad input; `UsageError` is only for exit code 2 (usage or
environment problems), handled once in the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from agentflow.compiler.diagnostics.codes import Code, Severity
from agentflow.compiler.diagnostics.positions import Span


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    code: str
    """Stable identifier from `codes.py`, e.g. ``AF401``."""
    severity: Severity
    file: str
    """Repo-relative POSIX path; empty for repository-wide problems."""
    line: int
    """1-based; points at the offending key or value."""
    column: int
    """1-based."""
    message: str
    hint: str | None = None
    origin: str | None = None
    """For rendered template output: the instance that produced it."""

    @property
    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.file, self.line, self.column, self.code, self.message, self.origin or "")


class UsageError(Exception):
    """A usage or environment problem: the CLI prints it and exits 2."""


def rendered_label(asset: str, origin: str) -> str:
    """The `file` of a document rendered from ``asset`` for the instance in ``origin``.

    Stages report against it like any file; the `Report` turns it back into the asset path
    plus `Diagnostic.origin`, so no stage needs to know that a resource was rendered.
    """
    return f"{asset} (rendered for {origin})"


class Report:
    """Collects diagnostics from every stage; de-duplicates and sorts on the way out."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, int, int, str, str | None], Diagnostic] = {}
        self._rendered: dict[str, tuple[str, str]] = {}
        self.files_checked = 0

    def register_rendered(self, asset: str, origin: str) -> str:
        """Announce a rendered document; returns the label its diagnostics are filed under."""
        label = rendered_label(asset, origin)
        self._rendered[label] = (asset, origin)
        return label

    def add(
        self,
        code: Code,
        file: str,
        span: Span,
        message: str,
        *,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        diagnostic = Diagnostic(
            code=code.id,
            severity=severity or code.severity,
            file=file,
            line=span.line,
            column=span.column,
            message=message,
            hint=hint,
        )
        self.extend([diagnostic])

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            rendered = self._rendered.get(diagnostic.file)
            if rendered is not None:
                diagnostic = replace(diagnostic, file=rendered[0], origin=rendered[1])
            key = (
                diagnostic.code,
                diagnostic.file,
                diagnostic.line,
                diagnostic.column,
                diagnostic.message,
                diagnostic.origin,
            )
            self._items.setdefault(key, diagnostic)

    def diagnostics(self, *, strict: bool = False) -> list[Diagnostic]:
        """Everything reported, sorted by place; ``strict`` makes warnings errors."""
        items = sorted(self._items.values(), key=lambda d: d.sort_key)
        if strict:
            items = [replace(d, severity="error") for d in items]
        return items

    def has_errors(self, *, strict: bool = False) -> bool:
        return any(strict or d.severity == "error" for d in self._items.values())

    def count(self, severity: Severity, *, strict: bool = False) -> int:
        return sum(1 for d in self.diagnostics(strict=strict) if d.severity == severity)
