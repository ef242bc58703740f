"""Alembic environment for the tracking database, driven from `adforge.db.database`.

The caller passes an open connection in `config.attributes["connection"]`; run from the
`alembic` command line instead, the URL comes from `sqlalchemy.url` or `ADFORGE_DATABASE_URL`.
SQLite gets batch mode (ALTER through table copies). PostgreSQL takes an advisory lock so
that two processes upgrading at once apply each migration once.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine, text

from adforge.db.models import Base

MIGRATION_LOCK_ID = 0x0ADF0E6E  # any constant shared by every AdForge process


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ["ADFORGE_DATABASE_URL"]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_online()
