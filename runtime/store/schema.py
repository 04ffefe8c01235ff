"""Connecting and migrating: a database URL → an engine on the current schema.

SQLite gets what a store shared by threads and processes needs: WAL journaling, a busy timeout,
foreign keys, and ``BEGIN IMMEDIATE`` for every transaction, so writers queue instead of
failing halfway (SQLAlchemy's recipe for pysqlite). `migrate` applies the Alembic revisions;
`require_current` refuses a database that is behind, in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


class SchemaError(RuntimeError):
    """The database is not on this runtime's schema; the message says what to run."""


def connect(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``)."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_connect(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Writers take the write lock at BEGIN; readers (``reading=True``) read a snapshot, which
    WAL lets them do beside a writer."""
    reading = connection.get_execution_options().get("reading", False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> str:
    """Bring the database to the newest revision; returns it."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")
    return head_revision()


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        revision: str | None = MigrationContext.configure(connection).get_current_revision()
        return revision


def require_current(engine: Engine) -> None:
    """Raise `SchemaError` unless the database is on the newest revision."""
    found, wanted = current_revision(engine), head_revision()
    if found != wanted:
        shown = found or "no schema"
        raise SchemaError(
            f"the database is at {shown}, this runtime needs {wanted}: run 'af runtime migrate'"
        )
