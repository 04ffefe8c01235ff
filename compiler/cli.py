"""`af`: flags → library call → render → exit code.

Imports stay lazy: `af validate` loads only the compiler stages it runs, never the runtime,
FastAPI, SQLAlchemy, NATS or a Kubernetes client. Exit codes (SPEC §2): 0 success, 1 the input
has errors, 2 usage or environment problems. Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

FORMATS = ("text", "json", "github", "sarif")


class _Parser(argparse.ArgumentParser):
    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Positionals may follow options (`af upgrade INSTANCE --to C PATH`); argparse takes
        them only in one run unless asked to intermix, which it allows without subcommands."""
        if self._intermixing or self._subparsers is not None:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"af: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="af", description="AgentFlow: compile AI-agent workflows from git.")
    parser.add_argument("--version", action="version", version=f"af {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    validate = commands.add_parser("validate", help="check a repository; writes nothing")
    validate.add_argument("path", nargs="?", default=".", metavar="PATH")
    validate.add_argument("--env", metavar="ENV", help="also check this environment's constraints")
    validate.add_argument("--format", choices=FORMATS, default="text")
    validate.add_argument("--strict", action="store_true", help="treat warnings as errors")
    validate.set_defaults(handler=_validate)
    _add_template_commands(commands)
    return parser


def _add_template_commands(commands: Any) -> None:
    """`af init` and `af upgrade` (templates issue); handlers live in templates_cli.py."""
    from .templates_cli import run_init, run_upgrade

    init = commands.add_parser("init", help="create a new repository from a template")
    init.add_argument("dir", metavar="DIR")
    init.add_argument("--template", required=True, metavar="NAME@CONSTRAINT")
    init.add_argument("-p", dest="params", action="append", default=[], metavar="KEY=VALUE")
    init.add_argument(
        "--source", default=".", metavar="PATH_OR_GIT_URL", help="where templates/ is"
    )
    init.add_argument("--name", help="the instance's name (default: the template's)")
    init.set_defaults(handler=run_init)
    upgrade = commands.add_parser("upgrade", help="move a TemplateInstance to another version")
    upgrade.add_argument("instance", metavar="INSTANCE")
    upgrade.add_argument("--to", required=True, metavar="CONSTRAINT")
    upgrade.add_argument("path", nargs="?", default=".", metavar="PATH")
    upgrade.add_argument("-p", dest="params", action="append", default=[], metavar="KEY=VALUE")
    upgrade.add_argument("--unset", action="append", default=[], metavar="KEY")
    upgrade.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    upgrade.set_defaults(handler=run_upgrade)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .diagnostics import UsageError

    try:
        return int(args.handler(args))
    except UsageError as error:
        print(f"af: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # one clear line, never a traceback (SPEC §2)
        print(
            f"af: internal error: {type(error).__name__}: {error} "
            "(please report this with the input that caused it)",
            file=sys.stderr,
        )
        return 2


def _validate(args: argparse.Namespace) -> int:
    from .diagnostics import UsageError
    from .pipeline import validate_snapshot
    from .renderers import RENDERERS, Summary
    from .source import read_folder

    root = Path(args.path)
    if not root.is_dir():
        raise UsageError(f"{args.path}: not a directory")
    result = validate_snapshot(read_folder(root), environment=args.env)
    report = result.report
    diagnostics = report.diagnostics(strict=args.strict)
    summary = Summary(
        errors=sum(d.severity == "error" for d in diagnostics),
        warnings=sum(d.severity == "warning" for d in diagnostics),
        files=report.files_checked,
    )
    print(RENDERERS[args.format](diagnostics, summary))
    return 1 if summary.errors else 0
