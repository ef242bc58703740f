"""Selections: a `selections` table, one row per drafted variant of a run: whether the
selection kept it for the final pass, its draft score and the score's terms, who chose
(auto, a person in the Prefect UI, a CLI user) and when.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "selections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("variant", sa.String(200), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("terms", JSON_DOCUMENT, nullable=False),
        sa.Column("selected_by", sa.String(200), nullable=False),
        sa.Column("selected_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_selections"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_selections_run_id_runs",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("run_id", "sku", "variant",
                            name="uq_selections_run_id_sku_variant"),
    )
    op.create_index("ix_selections_run_id", "selections", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_selections_run_id", table_name="selections")
    op.drop_table("selections")
