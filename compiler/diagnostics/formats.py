"""Renderers for diagnostics, one per ``--format``: text, json, github, sarif.

Input: sorted diagnostics and a summary. Output: the text the CLI prints. Renderers never
decide exit codes or severities; they only format what the `Report` holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agentflow.compiler import __version__
from agentflow.compiler.diagnostics.codes import REGISTRY
from agentflow.compiler.diagnostics.report import Diagnostic


@dataclass(frozen=True, slots=True)
class Summary:
    errors: int
    warnings: int
    files: int

    @classmethod
    def of(cls, diagnostics: Sequence[Diagnostic], files: int) -> Summary:
        """The counts under a list of diagnostics, from ``files`` files checked."""
        errors = sum(d.severity == "error" for d in diagnostics)
        return cls(errors=errors, warnings=len(diagnostics) - errors, files=files)


Renderer = Callable[[Sequence[Diagnostic], Summary], str]


def render_text(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    lines = []
    for d in diagnostics:
        origin = f" (rendered for {d.origin})" if d.origin else ""
        lines.append(f"{d.file}:{d.line}:{d.column}{origin}: {d.severity}[{d.code}] {d.message}")
        if d.hint:
            lines.append(f"  hint: {d.hint}")
    if summary.errors or summary.warnings:
        lines.append(
            f"{_plural(summary.errors, 'error')}, {_plural(summary.warnings, 'warning')}"
            f" in {_plural(summary.files, 'file')}"
        )
    else:
        lines.append(f"ok: {_plural(summary.files, 'file')} checked, no problems")
    return "\n".join(lines)


def render_json(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    payload = {
        "diagnostics": [_as_json(d) for d in diagnostics],
        "summary": {"errors": summary.errors, "warnings": summary.warnings, "files": summary.files},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _as_json(d: Diagnostic) -> dict[str, object]:
    item: dict[str, object] = {
        "code": d.code,
        "severity": d.severity,
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "message": d.message,
    }
    if d.hint:
        item["hint"] = d.hint
    if d.origin:
        item["origin"] = d.origin
    return item


def render_github(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    """GitHub Actions workflow commands: each diagnostic becomes an annotation on the PR."""
    lines = []
    for d in diagnostics:
        message = f"[{d.code}] {d.message}" + (f"\nhint: {d.hint}" if d.hint else "")
        properties = (
            f"file={_escape_property(d.file)},line={d.line},col={d.column},"
            f"title={_escape_property(d.code + ' ' + REGISTRY[d.code].title)}"
        )
        lines.append(f"::{d.severity} {properties}::{_escape_data(message)}")
    lines.append(f"{_plural(summary.errors, 'error')}, {_plural(summary.warnings, 'warning')}")
    return "\n".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_sarif(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    """SARIF 2.1.0, as GitHub code scanning and other viewers read it."""
    used = sorted({d.code for d in diagnostics})
    rules = [
        {
            "id": code,
            "name": REGISTRY[code].title.title().replace(" ", "").replace("-", ""),
            "shortDescription": {"text": REGISTRY[code].title},
            "defaultConfiguration": {"level": REGISTRY[code].severity},
        }
        for code in used
    ]
    results = [
        {
            "ruleId": d.code,
            "ruleIndex": used.index(d.code),
            "level": d.severity,
            "message": {"text": d.message + (f"\nhint: {d.hint}" if d.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": d.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": d.line, "startColumn": d.column},
                    }
                }
            ],
        }
        for d in diagnostics
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "agentflow",
                        "version": __version__,
                        "informationUri": "https://agentflow.dev",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
