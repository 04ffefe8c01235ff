"""`af build [PATH] [--rev REV] [--env ENV] [--out DIR] [--archive] [--format F] [--explain]
[--scenarios FILE]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from agentflow.compiler.build.write import build
    from agentflow.compiler.diagnostics.formats import RENDERERS, Summary

    result = build(
        Path(args.path),
        out=Path(args.out),
        rev=args.rev,
        environment=args.env,
        archive=args.archive,
        scenarios=Path(args.scenarios) if args.scenarios is not None else None,
    )
    summary = Summary.of(result.diagnostics, result.files_checked)
    if result.path is None:
        print(RENDERERS[args.format](list(result.diagnostics), summary))
        return 1
    if result.diagnostics:  # warnings: shown as af validate shows them, but they do not block
        print(RENDERERS["text"](list(result.diagnostics), summary), file=sys.stderr)
    if args.format == "json":
        shown: dict[str, object] = {
            "digest": result.digest,
            "path": str(result.path),
            "archive": str(result.archive) if result.archive else None,
            "reused": result.reused,
            "workflows": dict(result.keys),
        }
        if args.scenarios is not None:
            shown["scenarios"] = args.scenarios
        if args.explain:
            shown["explain"] = list(result.explanation)
        print(json.dumps(shown, indent=2, sort_keys=True))
        return 0
    print(f"{result.digest} {result.path}")
    if result.archive is not None:
        print(f"archive: {result.archive}")
    if args.scenarios is not None:
        print(f"scenarios: {args.scenarios}")
    if args.explain:
        for line in result.explanation:
            print(f"  {line}")
    return 0
