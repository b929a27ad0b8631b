"""Alembic environment: runs on the connection coldset hands it (see coldset.store.migrate)."""

from __future__ import annotations

from alembic import context

from coldset.store import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - coldset always passes its connection
    raise RuntimeError("run migrations through coldset.store.migrate, which passes a connection")

context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
