"""`af init DIR --template NAME@CONSTRAINT [-p KEY=VALUE ...] [--source PATH_OR_GIT_URL]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentflow.compiler.commands.templates import assignments, fail
from agentflow.compiler.diagnostics.report import UsageError


def run(args: argparse.Namespace) -> int:
    from agentflow.compiler.authoring.init import Initialized, init_repository

    name, constraint = _split_reference(args.template)
    result = init_repository(
        Path(args.dir),
        name,
        constraint,
        assignments(args.params),
        source=args.source,
        instance=args.name,
    )
    if not isinstance(result, Initialized):
        return fail(result.message, result.diagnostics)
    print(f"created {args.dir} from template {result.template} {result.version}:")
    for path in result.files:
        print(f"  {path}")
    return 0


def _split_reference(text: str) -> tuple[str, str]:
    name, sep, constraint = text.partition("@")
    if not name:
        raise UsageError(f"--template {text!r}: expected NAME@CONSTRAINT, e.g. support-flow@^2")
    return name, constraint if sep and constraint else "*"
