"""Alembic environment: migrations run on the connection ``Records.migrate`` hands over.

``Records.migrate`` opens an async connection and calls Alembic inside ``run_sync``; the sync
connection arrives in ``config.attributes["connection"]``. No alembic.ini is needed.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from vigie.records.schema import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through vigie.records.Records.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: batch mode rebuilds tables when later versions need it.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
