"""The runtime's verbs of `af`: flags → `commands.<verb>.run(args)` → exit code.

``af run``, ``af test``, ``af runs``, ``af audit`` and ``af runtime`` reach here through
``python -m agentflow.runtime`` (the compiler's `af` hands them over by exec, importing nothing of
the runtime). Exit codes as for every `af` command (SPEC §2): 0 success, 1 the run or the input
failed, 2 a usage or environment problem; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


class UsageError(Exception):
    """A usage or environment problem: printed in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"af: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="af", description="AgentFlow: run compiled workflows.")
    verbs = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    run = verbs.add_parser("run", help="run one workflow on the embedded runtime")
    run.add_argument("workflow", metavar="WORKFLOW")
    run.add_argument("path", nargs="?", default=".", metavar="PATH")
    given = run.add_mutually_exclusive_group()
    given.add_argument("--input", metavar="JSON", help="the workflow input, as JSON")
    given.add_argument("--input-file", metavar="FILE", help="a file holding the input as JSON")
    run.add_argument("--scenario", metavar="NAME", help="answer with this scenario's stubs")
    run.add_argument("--env", metavar="ENV", help="compile and run for this environment")
    run.add_argument("--bundle", metavar="DIR", help="run this built bundle (folder or .tar.gz)")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines on stderr: warnings as text, or every step as JSON with its run, step "
        "and trace ids",
    )
    test = verbs.add_parser("test", help="run every Scenario with its stubs; no network")
    test.add_argument("path", nargs="?", default=".", metavar="PATH")
    test.add_argument("--scenario", metavar="NAME", help="only this scenario")
    test.add_argument("--format", choices=("text", "json", "junit"), default="text")
    runs = verbs.add_parser("runs", help="look at and steer runs")
    actions = runs.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=_Parser
    )
    listing = actions.add_parser("list", help="recent runs, newest first")
    listing.add_argument("--status", help="only runs in this status")
    listing.add_argument("--limit", type=int, default=20)
    show = actions.add_parser("show", help="a run and its steps")
    show.add_argument("run_id", metavar="RUN")
    show.add_argument("--format", choices=("text", "json"), default="text")
    cancel = actions.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id", metavar="RUN")
    approve = actions.add_parser("approve", help="decide a run's approval state")
    approve.add_argument("run_id", metavar="RUN")
    approve.add_argument("state", metavar="STATE")
    approve.add_argument("--deny", action="store_true", help="refuse instead of approving")
    approve.add_argument("--comment", default="")
    approve.add_argument("--as", dest="approver", help="who decides (default: $USER)")
    for action in (listing, show, cancel, approve):
        action.add_argument("--path", default=".", metavar="PATH", help="the repository (embedded)")
    audit = verbs.add_parser("audit", help="check the audit trail")
    audit_actions = audit.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=_Parser
    )
    verify = audit_actions.add_parser(
        "verify", help="check the hash chain; names the first broken record"
    )
    verify.add_argument("--dsn", help="the database (default: AF_DB_DSN, else the embedded store)")
    verify.add_argument("--path", default=".", metavar="PATH", help="the repository (embedded)")
    runtime = verbs.add_parser("runtime", help="the production runtime (serve, worker, migrate)")
    runtime.add_argument("action", choices=("serve", "worker", "migrate", "token"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = "audit" if args.command == "audit" else args.command
    try:
        command = importlib.import_module(f"agentflow.runtime.commands.{module}")
        return int(command.run(args))
    except UsageError as error:
        print(f"af: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as error:  # one clear line, never a traceback (SPEC §2)
        print(
            f"af: internal error: {type(error).__name__}: {error} "
            "(please report this with the input that caused it)",
            file=sys.stderr,
        )
        return 2
