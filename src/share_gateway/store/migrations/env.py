"""Alembic environment: runs on the connection the caller passes (see ``database.migrate``)."""

from __future__ import annotations

from alembic import context

from share_gateway.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through share_gateway.store.database.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
