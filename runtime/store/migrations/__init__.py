"""Alembic migrations of the runtime's schema (`agentflow.runtime.store.tables`)."""
