"""What `af init` and `af upgrade` share: ``-p KEY=VALUE`` parameters and the failure report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from agentflow.compiler.diagnostics.report import Diagnostic, UsageError


def assignments(items: Sequence[str]) -> dict[str, Any]:
    """``-p KEY=VALUE`` flags as typed parameter values; a malformed one is a usage error."""
    from agentflow.compiler.templates.params import parse_assignment

    values = {}
    for item in items:
        try:
            key, value = parse_assignment(item)
        except ValueError as error:
            raise UsageError(f"-p {error}") from None
        values[key] = value
    return values


def fail(message: str, diagnostics: tuple[Diagnostic, ...]) -> int:
    """Print why a template command refused (its diagnostics, then one line); exit code 1."""
    from agentflow.compiler.diagnostics.formats import Summary, render_text

    if diagnostics:
        lines = render_text(diagnostics, Summary.of(diagnostics, 0)).splitlines()
        print("\n".join(lines[:-1]))  # the diagnostics, without the summary line
    print(f"af: {message}", file=sys.stderr)
    return 1
