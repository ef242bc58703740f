"""Tables of the tracking database (SQLAlchemy 2 typed declarative models).

    runs ─┬─ products      one row per (run, sku)
          ├─ renditions    one row per (run, sku, platform)
          ├─ quality       one row per (run, sku, subject, metric)
          ├─ errors        every recorded problem, row-level or run-level
          ├─ reviews       one row per canvas held back by a quality gate, and its decision
          ├─ deliveries    every attempt to post the run's results to its webhook
          ├─ stage_metrics wall, CPU and GPU seconds per (run, sku, platform, stage)
          ├─ selections    one row per drafted variant: kept or not, its score, by whom
          └─ model_events  every model load and unload (run optional)
    assets                 one row per content key, whatever the number of runs

The schema is created by Alembic (`adforge/db/migrations`), never by `create_all`;
a change here needs a new migration there. Times are tz-aware UTC on every backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUSES = ("running", "completed", "partial", "failed", "interrupted")
DRAFT_STATUS: Final = "draft"  # a variant's status once drafted
NOT_SELECTED_STATUS: Final = "not-selected"  # ... once its selection left it out
VARIANT_ONLY_STATUSES = (DRAFT_STATUS, NOT_SELECTED_STATUS)  # no final pass made them
PRODUCT_STATUSES = ("pending", "done", "needs-review", "rejected", "failed",
                    "failed-retryable", *VARIANT_ONLY_STATUSES)
REVIEW_STATUSES = ("pending", "approved", "rejected")
MODEL_ACTIONS = ("load", "unload")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back tz-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value} has no time zone; pass an aware datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def run_fk(*, ondelete: str = "CASCADE", nullable: bool = False, index: bool = False) -> Any:
    return mapped_column(
        String(36), ForeignKey("runs.id", ondelete=ondelete), nullable=nullable, index=index
    )


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_brief_key", "brief_sha256", "brand", "profile"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    brief: Mapped[str] = mapped_column(Text)
    brief_sha256: Mapped[str] = mapped_column(String(64))
    brand: Mapped[str] = mapped_column(String(200))
    profile: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default="running")
    resumed_from: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("runs.id", ondelete="SET NULL")
    )
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    n_products: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("run_id", "sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk()
    sku: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(Text, default="")
    source_uri: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    stage: Mapped[str] = mapped_column(String(50), index=True)
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    backend: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str | None] = mapped_column(String(300))
    seed: Mapped[int | None] = mapped_column(BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_run_id: Mapped[str | None] = run_fk(ondelete="SET NULL", nullable=True)


class Rendition(Base):
    __tablename__ = "renditions"
    __table_args__ = (UniqueConstraint("run_id", "sku", "platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk()
    sku: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uri: Mapped[str] = mapped_column(Text)
    asset_key: Mapped[str] = mapped_column(String(512), index=True)
    # What made each part: {"layout": {"backend": "classic", "fallback_from": ...}, ...}.
    # NULL for rows recorded before migration 0002.
    backends: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)


class ModelEvent(Base):
    __tablename__ = "model_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = run_fk(ondelete="SET NULL", nullable=True, index=True)
    model: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(16))
    placement: Mapped[str] = mapped_column(String(50))
    nbytes: Mapped[int] = mapped_column("bytes", BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    peak_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Quality(Base):
    __tablename__ = "quality"
    __table_args__ = (UniqueConstraint("run_id", "sku", "subject", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk()
    sku: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(50))
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)


class ErrorRecord(Base):
    __tablename__ = "errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk(index=True)
    sku: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(Base):
    """A canvas that failed a quality gate after every repair: held back from delivery
    until a person approves (then it is published) or rejects it (with a reason)."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("run_id", "sku", "platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk()
    sku: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # [{"gate": "segment_confidence", "value": 0.02, "threshold": 0.5}, ...]
    failing: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    picture: Mapped[str] = mapped_column(Text)  # the held ad: review file, or store object
    asset_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """One attempt to POST a run's results document to the results webhook."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk(index=True)
    url: Mapped[str] = mapped_column(Text)  # without its query string (may hold a token)
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StageMetric(Base):
    """What one stage cost for one product (platform "" ) or one canvas (its platform)."""

    __tablename__ = "stage_metrics"
    __table_args__ = (UniqueConstraint("run_id", "sku", "platform", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk(index=True)
    sku: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(50), default="")
    stage: Mapped[str] = mapped_column(String(50))
    wall_s: Mapped[float] = mapped_column(Float)
    cpu_s: Mapped[float] = mapped_column(Float)
    gpu_s: Mapped[float] = mapped_column(Float, default=0.0)
    gpu_peak_bytes: Mapped[int | None] = mapped_column(BigInteger)
    load_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SelectionRecord(Base):
    """One drafted variant of a product and whether the selection kept it for the final
    pass: its draft score and the score's terms, who chose (auto, a person) and when."""

    __tablename__ = "selections"
    __table_args__ = (UniqueConstraint("run_id", "sku", "variant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = run_fk(index=True)
    sku: Mapped[str] = mapped_column(String(200))
    variant: Mapped[str] = mapped_column(String(200))  # the variant's record key
    kept: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    terms: Mapped[dict[str, float]] = mapped_column(JSONDocument, default=dict)
    selected_by: Mapped[str] = mapped_column(String(200))
    selected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
