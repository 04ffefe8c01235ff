"""`af init` and `af upgrade`: flags → library call → printed result → exit code.

Kept apart from cli.py so the template commands touch it in one place; imports stay lazy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, UsageError


def run_init(args: argparse.Namespace) -> int:
    from .scaffold import Initialized, init_repository

    name, constraint = _split_reference(args.template)
    result = init_repository(
        Path(args.dir),
        name,
        constraint,
        _assignments(args.params),
        source=args.source,
        instance=args.name,
    )
    if not isinstance(result, Initialized):
        return _fail(result.message, result.diagnostics)
    print(f"created {args.dir} from template {result.template} {result.version}:")
    for path in result.files:
        print(f"  {path}")
    return 0


def run_upgrade(args: argparse.Namespace) -> int:
    from .upgrade import Upgrade, upgrade_instance

    root = Path(args.path)
    if not root.is_dir():
        raise UsageError(f"{args.path}: not a directory")
    result = upgrade_instance(
        root,
        args.instance,
        args.to,
        set_values=_assignments(args.params),
        unset=args.unset,
        write=not args.dry_run,
    )
    if not isinstance(result, Upgrade):
        return _fail(result.message, result.diagnostics)
    verb = "would move" if args.dry_run else "moved"
    versions = f"from {result.old_version} to {result.new_version}"
    print(f"{result.file}: {verb} {args.instance} {versions}")
    print(result.diff or "(the rendered resources do not change)", end="")
    if result.plan_diff:
        print()
        print(result.plan_diff, end="")
    return 0


def _split_reference(text: str) -> tuple[str, str]:
    name, sep, constraint = text.partition("@")
    if not name:
        raise UsageError(f"--template {text!r}: expected NAME@CONSTRAINT, e.g. support-flow@^2")
    return name, constraint if sep and constraint else "*"


def _assignments(items: Sequence[str]) -> dict[str, Any]:
    from .params import parse_assignment

    values = {}
    for item in items:
        try:
            key, value = parse_assignment(item)
        except ValueError as error:
            raise UsageError(f"-p {error}") from None
        values[key] = value
    return values


def _fail(message: str, diagnostics: tuple[Diagnostic, ...]) -> int:
    from .renderers import render_text

    if diagnostics:
        lines = render_text(diagnostics, _summary(diagnostics)).splitlines()
        print("\n".join(lines[:-1]))  # the diagnostics, without the summary line
    print(f"af: {message}", file=sys.stderr)
    return 1


def _summary(diagnostics: tuple[Diagnostic, ...]) -> Any:
    from .renderers import Summary

    errors = sum(d.severity == "error" for d in diagnostics)
    return Summary(errors=errors, warnings=len(diagnostics) - errors, files=0)
