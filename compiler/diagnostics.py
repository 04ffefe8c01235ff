"""Diagnostics are data: one frozen type, collected by a `Report`, sorted and rendered last.

Every stage reports into the same `Report` and keeps going, so a user sees every problem in one
run. Nothing here raises for bad input; `UsageError` is only for exit code 2 (usage or
environment problems), handled once in the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from .codes import Code, Severity
from .source import Span


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
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)


class UsageError(Exception):
    """A usage or environment problem: the CLI prints it and exits 2."""


class Report:
    """Collects diagnostics from every stage; de-duplicates and sorts on the way out."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, int, int, str], Diagnostic] = {}
        self.files_checked = 0

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
            key = (
                diagnostic.code,
                diagnostic.file,
                diagnostic.line,
                diagnostic.column,
                diagnostic.message,
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
