"""Alembic environment for insurcrm's own migrations (see insurcrm.adapters.sql.schema)."""

from __future__ import annotations

from alembic import context

from insurcrm.adapters.sql.schema import VERSION_TABLE
from insurcrm.adapters.sql.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
