"""`af audit verify [--dsn DSN]`: check the audit hash chain; name the first broken record."""

from __future__ import annotations

import argparse
import os
import sys

from agentflow.runtime.audit import verify
from agentflow.runtime.cli import UsageError
from agentflow.runtime.commands.common import repository
from agentflow.runtime.embedded import DATABASE, data_dir
from agentflow.runtime.store.schema import SchemaError, connect, require_current
from agentflow.runtime.store.sql import SqlStore


def run(args: argparse.Namespace) -> int:
    dsn = args.dsn or os.environ.get("AF_DB_DSN")
    if dsn is None:
        database = data_dir(repository(args.path)) / DATABASE
        if not database.is_file():
            raise UsageError(f"{database}: no embedded store here")
        dsn = f"sqlite:///{database}"
    engine = connect(dsn)
    try:
        require_current(engine)
    except SchemaError as error:
        raise UsageError(str(error)) from None
    records, heads, finished = SqlStore(engine).audit_trail()
    broken = verify(records, heads, finished)
    if broken is not None:
        print(f"af audit: broken at {broken}", file=sys.stderr)
        return 1
    chains = len({r.chain for r in records})
    last = next((r.hash for r in reversed(records) if r.chain == "global"), None)
    print(
        f"ok: {len(records)} records in {chains} chains intact"
        + (f"; global head {last}" if last else "")
    )
    return 0
