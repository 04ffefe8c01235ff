"""`af`: flags → `commands.<verb>.run(args)` → exit code.

Imports stay lazy: `af validate` loads only the compiler stages it runs, never the runtime,
FastAPI, SQLAlchemy, NATS or a Kubernetes client. Exit codes (SPEC §2): 0 success, 1 the input
has errors, 2 usage or environment problems. Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

FORMATS = ("text", "json", "github", "sarif")
RUNTIME_VERBS = {
    "run": "run one workflow on the embedded runtime",
    "test": "run every Scenario with its stubs",
    "runs": "look at and steer runs (list, show, cancel, approve)",
    "audit": "check the audit trail (verify)",
    "runtime": "the production runtime (serve, worker, migrate, token)",
}
"""Verbs the runtime answers: `af` hands them to ``python -m agentflow.runtime`` unparsed, as
git hands ``git foo`` to ``git-foo``, so the compiler never imports the runtime."""


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
    from agentflow.compiler import __version__

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
    build.add_argument(
        "--scenarios",
        metavar="FILE",
        help="also write the checked Scenarios to FILE, for the runtime's af test",
    )
    diff = commands.add_parser("diff", help="semantic diff of two compiled revisions or bundles")
    diff.add_argument("base", metavar="BASE", help="a git revision or a bundle path")
    diff.add_argument("head", metavar="HEAD", help="a git revision or a bundle path")
    diff.add_argument("--repo", default=".", metavar="PATH", help="the repository (default .)")
    diff.add_argument("--env", metavar="ENV", help="compile revisions for this environment")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.add_argument("--fail-on", choices=("escalation", "change"), metavar="escalation|change")
    _add_template_commands(commands)
    for verb, text in RUNTIME_VERBS.items():  # listed in `af --help`; parsed by the runtime
        commands.add_parser(verb, help=text, add_help=False)
    graph = commands.add_parser("graph", help="draw a workflow's compiled plan")
    graph.add_argument("workflow", metavar="WORKFLOW")
    graph.add_argument("path", nargs="?", default=".", metavar="PATH")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.add_argument("--rev", metavar="REV", help="draw it as it is in this git revision")
    return parser


def _add_template_commands(commands: Any) -> None:
    """`af init` and `af upgrade`."""
    init = commands.add_parser("init", help="create a new repository from a template")
    init.add_argument("dir", metavar="DIR")
    init.add_argument("--template", required=True, metavar="NAME@CONSTRAINT")
    init.add_argument("-p", dest="params", action="append", default=[], metavar="KEY=VALUE")
    init.add_argument(
        "--source", default=".", metavar="PATH_OR_GIT_URL", help="where templates/ is"
    )
    init.add_argument("--name", help="the instance's name (default: the template's)")
    upgrade = commands.add_parser("upgrade", help="move a TemplateInstance to another version")
    upgrade.add_argument("instance", metavar="INSTANCE")
    upgrade.add_argument("--to", required=True, metavar="CONSTRAINT")
    upgrade.add_argument("path", nargs="?", default=".", metavar="PATH")
    upgrade.add_argument("-p", dest="params", action="append", default=[], metavar="KEY=VALUE")
    upgrade.add_argument("--unset", action="append", default=[], metavar="KEY")
    upgrade.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in RUNTIME_VERBS:
        return _hand_over(words, replace_process=argv is None)
    parser = build_parser()
    args = parser.parse_args(argv)
    from agentflow.compiler.diagnostics.report import UsageError

    try:
        command = importlib.import_module(f"agentflow.compiler.commands.{args.command}")
        return int(command.run(args))
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


def _hand_over(words: list[str], *, replace_process: bool) -> int:
    """Run a runtime verb: in this process's place (the `af` command), or as a child."""
    command = [sys.executable, "-m", "agentflow.runtime", *words]
    if replace_process:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, command)
    import subprocess

    return subprocess.run(command, check=False).returncode
