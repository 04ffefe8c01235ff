"""`af runtime serve|worker|migrate|token`: the production runtime, on NATS JetStream and
PostgreSQL (SPEC §4). It comes with the production runtime issue; until then this says so."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    print(
        f"af runtime {args.action}: the production runtime (NATS + PostgreSQL) is not built yet; "
        "run workflows on the embedded runtime with af run and af test",
        file=sys.stderr,
    )
    return 2
