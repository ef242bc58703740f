"""Delivery and cost: a `deliveries` table (every results-webhook attempt) and a
`stage_metrics` table (wall, CPU and GPU seconds, peak GPU memory and model-load seconds
per stage and product, or per canvas where the canvas is the unit).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_deliveries_run_id_runs",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_deliveries_run_id", "deliveries", ["run_id"])
    op.create_table(
        "stage_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(50), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("wall_s", sa.Float(), nullable=False),
        sa.Column("cpu_s", sa.Float(), nullable=False),
        sa.Column("gpu_s", sa.Float(), nullable=False),
        sa.Column("gpu_peak_bytes", sa.BigInteger(), nullable=True),
        sa.Column("load_s", sa.Float(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stage_metrics"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"],
                                name="fk_stage_metrics_run_id_runs", ondelete="CASCADE"),
        sa.UniqueConstraint("run_id", "sku", "platform", "stage",
                            name="uq_stage_metrics_run_id_sku_platform_stage"),
    )
    op.create_index("ix_stage_metrics_run_id", "stage_metrics", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_stage_metrics_run_id", table_name="stage_metrics")
    op.drop_table("stage_metrics")
    op.drop_index("ix_deliveries_run_id", table_name="deliveries")
    op.drop_table("deliveries")
