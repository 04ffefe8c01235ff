"""`af graph WORKFLOW [PATH] [--format mermaid|dot] [--rev REV]`: a compiled plan as a picture."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from agentflow.compiler.diagnostics.formats import Summary, render_text
    from agentflow.compiler.diagnostics.suggest import did_you_mean
    from agentflow.compiler.pipeline import validate_snapshot
    from agentflow.compiler.review.draw import draw_plan
    from agentflow.compiler.source.read import read_snapshot

    snapshot = read_snapshot(Path(args.path), args.rev)
    result = validate_snapshot(snapshot)
    report, plans = result.report, result.plans
    if report.has_errors():  # the plans cannot be trusted: say why, draw nothing
        errors = [d for d in report.diagnostics() if d.severity == "error"]
        print(render_text(errors, Summary.of(errors, report.files_checked)), file=sys.stderr)
        return 1
    plan = plans.get(args.workflow)
    if plan is None:
        print(
            f"error[AF304] workflow '{args.workflow}' is not defined in {args.path}",
            file=sys.stderr,
        )
        hint = did_you_mean(args.workflow, plans)
        if hint:
            print(f"  hint: {hint}", file=sys.stderr)
        return 1
    sys.stdout.write(draw_plan(plan, args.format))
    return 0
