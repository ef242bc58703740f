"""Initial schema: runs, products, assets, renditions, model_events, quality, errors.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def run_id_column(*, nullable: bool = False) -> sa.Column:
    return sa.Column("run_id", sa.String(36), nullable=nullable)


def run_fk(table: str, column: str = "run_id", ondelete: str = "CASCADE"):
    return sa.ForeignKeyConstraint(
        [column], ["runs.id"], name=f"fk_{table}_{column}_runs", ondelete=ondelete
    )


def id_column() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("brief", sa.Text(), nullable=False),
        sa.Column("brief_sha256", sa.String(64), nullable=False),
        sa.Column("brand", sa.String(200), nullable=False),
        sa.Column("profile", sa.String(50), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resumed_from", sa.String(36), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("n_products", sa.Integer(), nullable=False),
        sa.Column("n_failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        run_fk("runs", "resumed_from", ondelete="SET NULL"),
    )
    op.create_index("ix_runs_brief_key", "runs", ["brief_sha256", "brand", "profile"])


def create_products() -> None:
    op.create_table(
        "products",
        id_column(),
        run_id_column(),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source_uri", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        run_fk("products"),
        sa.UniqueConstraint("run_id", "sku", name="uq_products_run_id_sku"),
    )


def create_assets() -> None:
    op.create_table(
        "assets",
        id_column(),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("backend", sa.String(100), nullable=False),
        sa.Column("model_id", sa.String(300), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("params", JSON_DOCUMENT, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("first_run_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_assets"),
        run_fk("assets", "first_run_id", ondelete="SET NULL"),
        sa.UniqueConstraint("key", name="uq_assets_key"),
    )
    op.create_index("ix_assets_stage", "assets", ["stage"])


def create_renditions() -> None:
    op.create_table(
        "renditions",
        id_column(),
        run_id_column(),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("asset_key", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_renditions"),
        run_fk("renditions"),
        sa.UniqueConstraint(
            "run_id", "sku", "platform", name="uq_renditions_run_id_sku_platform"
        ),
    )
    op.create_index("ix_renditions_asset_key", "renditions", ["asset_key"])


def create_model_events() -> None:
    op.create_table(
        "model_events",
        id_column(),
        run_id_column(nullable=True),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("placement", sa.String(50), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("peak_bytes", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_events"),
        run_fk("model_events", ondelete="SET NULL"),
    )
    op.create_index("ix_model_events_run_id", "model_events", ["run_id"])


def create_quality() -> None:
    op.create_table(
        "quality",
        id_column(),
        run_id_column(),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(50), nullable=False),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quality"),
        run_fk("quality"),
        sa.UniqueConstraint(
            "run_id", "sku", "subject", "metric", name="uq_quality_run_id_sku_subject_metric"
        ),
    )


def create_errors() -> None:
    op.create_table(
        "errors",
        id_column(),
        run_id_column(),
        sa.Column("sku", sa.String(200), nullable=True),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("field", sa.String(100), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_errors"),
        run_fk("errors"),
    )
    op.create_index("ix_errors_run_id", "errors", ["run_id"])


def upgrade() -> None:
    create_runs()
    create_products()
    create_assets()
    create_renditions()
    create_model_events()
    create_quality()
    create_errors()


def downgrade() -> None:
    for table in ("errors", "quality", "model_events", "renditions", "assets", "products"):
        op.drop_table(table)
    op.drop_table("runs")
