"""Alembic environment. Only programmatic use: ``atendimento.storage.migracoes`` hands over an open
connection (``config.attributes["connection"]``), so there is no alembic.ini and no URL here."""

from __future__ import annotations

from alembic import context

from atendimento.storage.modelos import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `atendimento db upgrade` (atendimento.storage.migracoes)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
