"""`af diff BASE HEAD [--repo PATH] [--env ENV] [--format F] [--fail-on escalation|change]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from agentflow.bundle.manifest import BundleReadError
    from agentflow.compiler.diagnostics.formats import RENDERERS, Summary
    from agentflow.compiler.review.diff import diff_bundles
    from agentflow.compiler.review.formats import render_json, render_markdown, render_text
    from agentflow.compiler.review.sides import Uncompiled, load_side

    sides = []
    for role, text in (("BASE", args.base), ("HEAD", args.head)):
        try:
            side = load_side(text, Path(args.repo), args.env)
        except BundleReadError as error:
            print(f"af diff: {role}: {error}", file=sys.stderr)
            return 1
        if isinstance(side, Uncompiled):
            summary = Summary.of(side.diagnostics, side.files_checked)
            print(f"af diff: {role} ({side.label}) does not compile:", file=sys.stderr)
            print(RENDERERS["text"](list(side.diagnostics), summary), file=sys.stderr)
            return 1
        sides.append(side)
    base, head = sides
    diff = diff_bundles(base, head)
    if args.format == "json":
        print(json.dumps(render_json(diff), indent=2, sort_keys=True, ensure_ascii=False))
    elif args.format == "markdown":
        sys.stdout.write("\n".join(render_markdown(diff, head.plans, base.plans)))
    else:
        sys.stdout.write(render_text(diff))
    if args.fail_on == "escalation" and diff.escalations:
        return 1
    if args.fail_on == "change" and not diff.empty:
        return 1
    return 0
