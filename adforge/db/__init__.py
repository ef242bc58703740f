"""The tracking database: runs, products, assets, renditions, quality, errors, model events.

    from adforge.db import open_database, repository
    db = open_database("sqlite:///.adforge/adforge.db")
    repository.start_run(db, run_id=..., brief=..., brief_sha256=..., brand=..., profile=...)

`models` holds the tables, `migrations` their Alembic history (applied on first use),
`repository` the small idempotent functions that the pipeline and the report call.
"""

from adforge.db.database import (
    DEFAULT_DATABASE_URL,
    Database,
    head_revision,
    is_transient,
    open_database,
)

__all__ = ["DEFAULT_DATABASE_URL", "Database", "head_revision", "is_transient", "open_database"]
