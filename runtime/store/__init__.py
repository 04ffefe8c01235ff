"""The run record: SQLAlchemy Core tables, Alembic migrations, and the store behind a protocol.

One schema serves both deployments: SQLite (WAL, ``BEGIN IMMEDIATE``, a busy timeout) for the
embedded runtime and PostgreSQL for production. `tables` declares it, `migrations` evolves it,
`sql.SqlStore` is the one implementation of the operations the worker needs.
"""
