"""`af`: flags → library call → render → exit code.

Imports stay lazy: `af validate` loads only the compiler stages it runs, never the runtime,
FastAPI, SQLAlchemy, NATS or a Kubernetes client. Exit codes (SPEC §2): 0 success, 1 the input
has errors, 2 usage or environment problems. Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from .diagnostics import Diagnostic
    from .renderers import Summary
    from .source import Snapshot

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
    validate.add_argument(
        "--rev", metavar="REV", help="check this git revision, read without a checkout"
    )
    validate.add_argument("--env", metavar="ENV", help="also check this environment's constraints")
    validate.add_argument("--format", choices=FORMATS, default="text")
    validate.add_argument("--strict", action="store_true", help="treat warnings as errors")
    validate.set_defaults(handler=_validate)
    build = commands.add_parser("build", help="validate, then write the execution bundle")
    build.add_argument("path", nargs="?", default=".", metavar="PATH")
    build.add_argument("--rev", metavar="REV", help="build this git revision, not the work tree")
    build.add_argument("--env", metavar="ENV", help="the environment to build for")
    build.add_argument("--out", default="dist", metavar="DIR", help="default: ./dist")
    build.add_argument("--archive", action="store_true", help="also write DIR/NAME.tar.gz")
    build.add_argument("--format", choices=("text", "json"), default="text")
    build.add_argument(
        "--explain", action="store_true", help="say, per plan, whether and why it was rebuilt"
    )
    build.set_defaults(handler=_build)
    diff = commands.add_parser("diff", help="semantic diff of two compiled revisions or bundles")
    diff.add_argument("base", metavar="BASE", help="a git revision or a bundle path")
    diff.add_argument("head", metavar="HEAD", help="a git revision or a bundle path")
    diff.add_argument("--repo", default=".", metavar="PATH", help="the repository (default .)")
    diff.add_argument("--env", metavar="ENV", help="compile revisions for this environment")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.add_argument("--fail-on", choices=("escalation", "change"), metavar="escalation|change")
    diff.set_defaults(handler=_diff)
    _add_template_commands(commands)
    graph = commands.add_parser("graph", help="draw a workflow's compiled plan")
    graph.add_argument("workflow", metavar="WORKFLOW")
    graph.add_argument("path", nargs="?", default=".", metavar="PATH")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.add_argument("--rev", metavar="REV", help="draw it as it is in this git revision")
    graph.set_defaults(handler=_graph)
    return parser


def _add_template_commands(commands: Any) -> None:
    """`af init` and `af upgrade` (templates issue); handlers live in templates_cli.py."""
    init = commands.add_parser("init", help="create a new repository from a template")
    init.add_argument("dir", metavar="DIR")
    init.add_argument("--template", required=True, metavar="NAME@CONSTRAINT")
    init.add_argument("-p", dest="params", action="append", default=[], metavar="KEY=VALUE")
    init.add_argument(
        "--source", default=".", metavar="PATH_OR_GIT_URL", help="where templates/ is"
    )
    init.add_argument("--name", help="the instance's name (default: the template's)")
    init.set_defaults(handler=_init)
    upgrade = commands.add_parser("upgrade", help="move a TemplateInstance to another version")
    upgrade.add_argument("instance", metavar="INSTANCE")
    upgrade.add_argument("--to", required=True, metavar="CONSTRAINT")
    upgrade.add_argument("path", nargs="?", default=".", metavar="PATH")
    upgrade.add_argument("-p", dest="params", action="append", default=[], metavar="KEY=VALUE")
    upgrade.add_argument("--unset", action="append", default=[], metavar="KEY")
    upgrade.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    upgrade.set_defaults(handler=_upgrade)


def _init(args: argparse.Namespace) -> int:
    from .templates_cli import run_init

    return run_init(args)


def _upgrade(args: argparse.Namespace) -> int:
    from .templates_cli import run_upgrade

    return run_upgrade(args)


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
    except BrokenPipeError:  # `af … | head` closed the pipe: stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 2
    except Exception as error:  # one clear line, never a traceback (SPEC §2)
        print(
            f"af: internal error: {type(error).__name__}: {error} "
            "(please report this with the input that caused it)",
            file=sys.stderr,
        )
        return 2


def _validate(args: argparse.Namespace) -> int:
    from .pipeline import validate_snapshot
    from .renderers import RENDERERS

    result = validate_snapshot(_read_snapshot(args.path, args.rev), environment=args.env)
    report = result.report
    diagnostics = report.diagnostics(strict=args.strict)
    summary = _summary(diagnostics, report.files_checked)
    print(RENDERERS[args.format](diagnostics, summary))
    return 1 if summary.errors else 0


def _build(args: argparse.Namespace) -> int:
    import json

    from .build import build
    from .renderers import RENDERERS

    result = build(
        Path(args.path),
        out=Path(args.out),
        rev=args.rev,
        environment=args.env,
        archive=args.archive,
    )
    summary = _summary(result.diagnostics, result.files_checked)
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
        if args.explain:
            shown["explain"] = list(result.explanation)
        print(json.dumps(shown, indent=2, sort_keys=True))
        return 0
    print(f"{result.digest} {result.path}")
    if result.archive is not None:
        print(f"archive: {result.archive}")
    if args.explain:
        for line in result.explanation:
            print(f"  {line}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    import json

    from .bundle_read import BundleReadError
    from .diff import diff_bundles
    from .diff_render import render_json, render_markdown, render_text
    from .diff_sources import Uncompiled, load_side
    from .renderers import RENDERERS

    sides = []
    for role, text in (("BASE", args.base), ("HEAD", args.head)):
        try:
            side = load_side(text, Path(args.repo), args.env)
        except BundleReadError as error:
            print(f"af diff: {role}: {error}", file=sys.stderr)
            return 1
        if isinstance(side, Uncompiled):
            summary = _summary(side.diagnostics, side.files_checked)
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


def _graph(args: argparse.Namespace) -> int:
    from .draw import draw_plan
    from .pipeline import validate_snapshot
    from .renderers import render_text
    from .suggest import did_you_mean

    result = validate_snapshot(_read_snapshot(args.path, args.rev))
    report, plans = result.report, result.plans
    if report.has_errors():  # the plans cannot be trusted: say why, draw nothing
        errors = [d for d in report.diagnostics() if d.severity == "error"]
        print(render_text(errors, _summary(errors, report.files_checked)), file=sys.stderr)
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


def _summary(diagnostics: Sequence[Diagnostic], files: int) -> Summary:
    from .renderers import Summary

    return Summary(
        errors=sum(d.severity == "error" for d in diagnostics),
        warnings=sum(d.severity == "warning" for d in diagnostics),
        files=files,
    )


def _read_snapshot(path: str, rev: str | None) -> Snapshot:
    """PATH as it is on disk, or as it is in git revision REV (GitPython loads only then)."""
    if rev is not None:
        from .git_revision import read_revision

        return read_revision(Path(path), rev)[0]
    from .diagnostics import UsageError
    from .source import read_folder

    if not Path(path).is_dir():
        raise UsageError(f"{path}: not a directory")
    return read_folder(Path(path))
