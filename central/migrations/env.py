"""Alembic environment: central.db.migrate() passes its connection in (no alembic.ini)."""
from alembic import context

from central.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
