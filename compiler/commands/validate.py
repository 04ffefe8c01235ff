"""`af validate [PATH] [--rev REV] [--env ENV] [--format F] [--strict]`: every check, no output."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from agentflow.compiler.diagnostics.formats import RENDERERS, Summary
    from agentflow.compiler.pipeline import validate_snapshot
    from agentflow.compiler.source.read import read_snapshot

    snapshot = read_snapshot(Path(args.path), args.rev)
    report = validate_snapshot(snapshot, environment=args.env).report
    diagnostics = report.diagnostics(strict=args.strict)
    summary = Summary.of(diagnostics, report.files_checked)
    print(RENDERERS[args.format](diagnostics, summary))
    return 1 if summary.errors else 0
