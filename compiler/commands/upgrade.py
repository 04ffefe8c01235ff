"""`af upgrade INSTANCE --to CONSTRAINT [PATH] [-p KEY=VALUE] [--unset KEY] [--dry-run]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentflow.compiler.commands.templates import assignments, fail
from agentflow.compiler.diagnostics.report import UsageError


def run(args: argparse.Namespace) -> int:
    from agentflow.compiler.authoring.upgrade import Upgrade, upgrade_instance

    root = Path(args.path)
    if not root.is_dir():
        raise UsageError(f"{args.path}: not a directory")
    result = upgrade_instance(
        root,
        args.instance,
        args.to,
        set_values=assignments(args.params),
        unset=args.unset,
        write=not args.dry_run,
    )
    if not isinstance(result, Upgrade):
        return fail(result.message, result.diagnostics)
    verb = "would move" if args.dry_run else "moved"
    versions = f"from {result.old_version} to {result.new_version}"
    print(f"{result.file}: {verb} {args.instance} {versions}")
    print(result.diff or "(the rendered resources do not change)", end="")
    if result.plan_diff:
        print()
        print(result.plan_diff, end="")
    return 0
