"""Renditions say what made them: a nullable JSON column `backends`.

Rows recorded before this revision keep NULL there (nothing recorded which backends made
them); the publish stage fills it for every rendition from now on.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("renditions", sa.Column("backends", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("renditions") as batch:  # SQLite drops columns by table copy
        batch.drop_column("backends")
