"""Small typed functions that the pipeline and the report call on the tracking database.

Every writer is idempotent: calling it again with the same arguments (a retried task, a
rerun) leaves the same rows, never duplicates. Each call is one short transaction;
transient faults leave as `adforge.errors.TransientError` (see `Database.session`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adforge.db.database import Database
from adforge.db.models import (
    MODEL_ACTIONS,
    PRODUCT_STATUSES,
    RUN_STATUSES,
    Asset,
    Base,
    Delivery,
    ErrorRecord,
    ModelEvent,
    Product,
    Quality,
    Rendition,
    Review,
    Run,
    utcnow,
)
from adforge.errors import AdForgeError
from adforge.storage import canonical_json

RunStatus = Literal["running", "completed", "partial", "failed", "interrupted"]
ProductStatus = Literal["pending", "done", "needs-review", "rejected", "failed",
                        "failed-retryable", "draft", "not-selected"]
ModelAction = Literal["load", "unload"]
UpsertInsert = sqlite.Insert | postgresql.Insert


@dataclasses.dataclass(frozen=True)
class AssetRow:
    """One stored stage output, as recorded (a plain value, safe to pass around)."""

    key: str
    stage: str
    uri: str
    sha256: str
    size_bytes: int
    backend: str
    model_id: str | None
    seed: int | None
    params: dict[str, Any]
    duration_ms: int
    created_at: dt.datetime
    first_run_id: str | None

    @classmethod
    def of(cls, asset: Asset) -> AssetRow:
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{name: getattr(asset, name) for name in names})


def new_run_id() -> str:
    """A fresh run id (a UUID4 string)."""
    return str(uuid.uuid4())


def _check_choice(value: str, choices: Iterable[str], what: str) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(choices)}")
    return value


def _dialect_insert(session: Session) -> Callable[..., UpsertInsert] | None:
    """The dialect's INSERT with ON CONFLICT, where the dialect has one."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    return None


def _upsert(
    session: Session, model: type[Base], values: Mapping[str, Any] | list[dict[str, Any]],
    keys: tuple[str, ...], updates: tuple[str, ...] = (),
) -> None:
    """Insert a row (or several, in one statement); on a clash of the unique `keys`,
    update `updates` (or do nothing)."""
    rows = values if isinstance(values, list) else [dict(values)]
    insert = _dialect_insert(session)
    if insert is None:
        for row in rows:
            _upsert_portable(session, model, row, keys, updates)
        return
    statement: UpsertInsert = insert(model).values(rows)
    if updates:
        changes = {name: statement.excluded[name] for name in updates}
        statement = statement.on_conflict_do_update(index_elements=list(keys), set_=changes)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement)


def _upsert_portable(
    session: Session, model: type[Base], values: Mapping[str, Any],
    keys: tuple[str, ...], updates: tuple[str, ...],
) -> None:
    """Select-then-write for dialects without ON CONFLICT (not safe against races)."""
    found = session.scalars(select(model).filter_by(**{k: values[k] for k in keys})).first()
    if found is None:
        session.add(model(**values))
        return
    for name in updates:
        setattr(found, name, values[name])


def _json_document(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Params as plain JSON (paths, enums and pydantic models normalised)."""
    return json.loads(canonical_json(dict(params or {})))


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# ---------------------------------------------------------------------------------------
# Runs and products
# ---------------------------------------------------------------------------------------


def _latest_run_of(session: Session, brief_sha256: str, brand: str, profile: str) -> Run | None:
    query = (
        select(Run)
        .where(Run.brief_sha256 == brief_sha256, Run.brand == brand, Run.profile == profile)
        .order_by(Run.started_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def start_run(
    db: Database, *, run_id: str, brief: str, brief_sha256: str, brand: str, profile: str,
    flow_run_id: str | None = None,
) -> str:
    """Record a run as running; `resumed_from` names the latest earlier run of the same
    brief, brand and profile when that one did not complete. Returns the run id."""
    with db.session() as session:
        existing = session.get(Run, run_id)
        if existing is not None:
            existing.flow_run_id = flow_run_id or existing.flow_run_id
            return run_id
        previous = _latest_run_of(session, brief_sha256, brand, profile)
        resumed_from = previous.id if previous and previous.status != "completed" else None
        session.add(Run(
            id=run_id, flow_run_id=flow_run_id, brief=brief, brief_sha256=brief_sha256,
            brand=brand, profile=profile, status="running", resumed_from=resumed_from,
            started_at=utcnow(), n_products=0, n_failed=0,
        ))
    return run_id


def finish_run(
    db: Database, run_id: str, status: RunStatus, n_products: int, n_failed: int
) -> None:
    """Close a run with its final status and counts."""
    _check_choice(status, RUN_STATUSES, "run status")
    with db.session() as session:
        changed = session.execute(
            update(Run).where(Run.id == run_id).values(
                status=status, n_products=n_products, n_failed=n_failed, finished_at=utcnow()
            )
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            raise AdForgeError(f"run {run_id} is not in the tracking database; start it first")


def mark_interrupted(db: Database, run_id: str) -> None:
    """A run stopped by its user (Ctrl-C) before it finished; the next run of the same
    brief resumes it, as it resumes any run that did not complete."""
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run_id, Run.status == "running")
                        .values(status="interrupted", finished_at=utcnow()))


def upsert_product(
    db: Database, *, run_id: str, sku: str, name: str, source_uri: str,
    source_sha256: str | None = None,
) -> None:
    """Record a product of a run (pending); a second call updates name and source only."""
    values = {
        "run_id": run_id, "sku": sku, "name": name, "source_uri": source_uri,
        "source_sha256": source_sha256, "status": "pending",
    }
    with db.session() as session:
        _upsert(session, Product, values, ("run_id", "sku"),
                ("name", "source_uri", "source_sha256"))


def set_product_status(db: Database, run_id: str, sku: str, status: ProductStatus) -> None:
    """Mark a product of a run pending, done or failed."""
    _check_choice(status, PRODUCT_STATUSES, "product status")
    with db.session() as session:
        changed = session.execute(
            update(Product).where(Product.run_id == run_id, Product.sku == sku)
            .values(status=status)
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            raise AdForgeError(f"product {sku} is not recorded in run {run_id}; upsert it first")


# ---------------------------------------------------------------------------------------
# Assets and results
# ---------------------------------------------------------------------------------------


def find_asset(db: Database, key: str) -> AssetRow | None:
    """The recorded asset under a content key, or None."""
    with db.session() as session:
        asset = session.scalars(select(Asset).where(Asset.key == key)).first()
        return None if asset is None else AssetRow.of(asset)


def record_asset(
    db: Database, *, key: str, stage: str, uri: str, sha256: str, size_bytes: int,
    backend: str, model_id: str | None = None, seed: int | None = None,
    params: Mapping[str, Any] | None = None, duration_ms: int = 0, run_id: str | None = None,
) -> AssetRow:
    """Record a stored asset once per key; returns the row kept (the first one recorded)."""
    values = {
        "key": key, "stage": stage, "uri": uri, "sha256": sha256, "size_bytes": size_bytes,
        "backend": backend, "model_id": model_id, "seed": seed,
        "params": _json_document(params), "duration_ms": int(duration_ms),
        "created_at": utcnow(), "first_run_id": run_id,
    }
    with db.session() as session:
        _upsert(session, Asset, values, ("key",))
        return AssetRow.of(session.scalars(select(Asset).where(Asset.key == key)).one())


def record_rendition(
    db: Database, *, run_id: str, sku: str, platform: str, width: int, height: int,
    uri: str, asset_key: str, backends: Mapping[str, Any] | None = None,
) -> None:
    """Record (or replace) the rendition of a product for one platform in a run.

    `backends` says what made each part of it, part -> {"backend": ..., and for a
    fallback "fallback_from" and "reason"}; None where nobody knows."""
    values = {
        "run_id": run_id, "sku": sku, "platform": platform, "width": width,
        "height": height, "uri": uri, "asset_key": asset_key,
        "backends": None if backends is None else _json_document(backends),
    }
    with db.session() as session:
        _upsert(session, Rendition, values, ("run_id", "sku", "platform"),
                ("width", "height", "uri", "asset_key", "backends"))


def record_quality(
    db: Database, *, run_id: str, sku: str, subject: str, metric: str, value: float,
    passed: bool,
) -> None:
    """Record (or replace) one quality metric of a product's master or rendition."""
    record_qualities(db, run_id=run_id, sku=sku, subject=subject,
                     checks={metric: (value, passed)})


def record_qualities(
    db: Database, *, run_id: str, sku: str, subject: str,
    checks: dict[str, tuple[float, bool]],
) -> None:
    """Record (or replace) several metrics of one subject in one transaction."""
    rows = [{"run_id": run_id, "sku": sku, "subject": subject, "metric": metric,
             "value": float(value), "passed": bool(passed)}
            for metric, (value, passed) in checks.items()]
    if not rows:
        return
    with db.session() as session:
        _upsert(session, Quality, rows, ("run_id", "sku", "subject", "metric"),
                ("value", "passed"))


def record_error(
    db: Database, run_id: str, sku: str | None, stage: str, kind: str, message: str,
    field: str | None = None,
) -> None:
    """Record a problem (input, stage, transient, warning...); the same one is kept once."""
    with db.session() as session:
        same = select(ErrorRecord.id).where(
            ErrorRecord.run_id == run_id, ErrorRecord.sku.is_not_distinct_from(sku),
            ErrorRecord.stage == stage, ErrorRecord.kind == kind,
            ErrorRecord.field.is_not_distinct_from(field), ErrorRecord.message == message,
        )
        if session.scalars(same.limit(1)).first() is None:
            session.add(ErrorRecord(
                run_id=run_id, sku=sku, stage=stage, kind=kind, field=field,
                message=message, created_at=utcnow(),
            ))


def record_model_event(
    db: Database, *, model: str, action: ModelAction, placement: str, nbytes: int,
    seconds: float, peak_bytes: int | None = None, run_id: str | None = None,
) -> None:
    """Record one model load or unload (each event is its own row)."""
    _check_choice(action, MODEL_ACTIONS, "model action")
    with db.session() as session:
        session.add(ModelEvent(
            run_id=run_id, model=model, action=action, placement=placement,
            nbytes=int(nbytes), seconds=float(seconds), peak_bytes=peak_bytes,
            created_at=utcnow(),
        ))


# ---------------------------------------------------------------------------------------
# Readers for the report
# ---------------------------------------------------------------------------------------


def latest_run_id(db: Database, brand: str | None = None) -> str | None:
    """The id of the most recently started run (of `brand`, if given), or None."""
    query = select(Run.id).order_by(Run.started_at.desc()).limit(1)
    if brand is not None:
        query = query.where(Run.brand == brand)
    with db.session() as session:
        return session.scalars(query).first()


def _rows_of_run(session: Session, model: type[Any], run_id: str) -> list[Any]:
    return list(session.scalars(select(model).where(model.run_id == run_id).order_by(model.id)))


def _error_dict(error: ErrorRecord) -> dict[str, Any]:
    return {"stage": error.stage, "kind": error.kind, "field": error.field,
            "message": error.message}


def _product_dicts(session: Session, run_id: str) -> tuple[list[dict], list[dict]]:
    """Per-product records, and the errors that belong to no recorded product."""
    products = {
        p.sku: {"sku": p.sku, "name": p.name, "status": p.status, "errors": [],
                "renditions": [], "quality": defaultdict(dict), "reviews": []}
        for p in _rows_of_run(session, Product, run_id)
    }
    loose: list[dict] = []
    for error in _rows_of_run(session, ErrorRecord, run_id):
        if error.sku in products:
            products[error.sku]["errors"].append(_error_dict(error))
        else:
            loose.append(_error_dict(error) | {"sku": error.sku})
    for r in _rows_of_run(session, Rendition, run_id):
        if r.sku in products:
            products[r.sku]["renditions"].append(
                {"platform": r.platform, "width": r.width, "height": r.height, "uri": r.uri,
                 "backends": r.backends}
            )
    for q in _rows_of_run(session, Quality, run_id):
        if q.sku in products:
            products[q.sku]["quality"][q.subject][q.metric] = {
                "value": q.value, "passed": q.passed
            }
    for review in _rows_of_run(session, Review, run_id):
        if review.sku in products:
            products[review.sku]["reviews"].append(review_dict(review))
    for product in products.values():
        product["quality"] = dict(product["quality"])
    return list(products.values()), loose


def review_dict(review: Review) -> dict[str, Any]:
    """A review item as the report, the CLI and the UI show it."""
    return {"run_id": review.run_id, "sku": review.sku, "platform": review.platform,
            "status": review.status, "failing": review.failing, "picture": review.picture,
            "created_at": _iso(review.created_at), "decided_at": _iso(review.decided_at),
            "decided_by": review.decided_by, "reason": review.reason}


def _model_event_counts(session: Session, run_id: str) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in _rows_of_run(session, ModelEvent, run_id):
        counts[event.model][event.action] += 1
    return {model: dict(actions) for model, actions in counts.items()}


def run_summary(db: Database, run_id: str) -> dict[str, Any]:
    """A JSON-able account of one run: products with errors, renditions (each with the
    `backends` that made it, None for rows older than that record), quality
    ({subject: {metric: {"value", "passed"}}}), the canvases held for review (each with
    its failing gates and decision), model loads/unloads per model, and every attempt
    to post the results to the webhook (`deliveries`).
    Times are ISO-8601 UTC strings."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise AdForgeError(f"run {run_id} is not in the tracking database")
        products, run_errors = _product_dicts(session, run_id)
        return {
            "run_id": run.id, "status": run.status, "profile": run.profile,
            "brief": run.brief, "brand": run.brand, "resumed_from": run.resumed_from,
            "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
            "n_products": run.n_products, "n_failed": run.n_failed,
            "products": products, "errors": run_errors,
            "model_events": _model_event_counts(session, run_id),
            "deliveries": _delivery_dicts(session, run_id),
        }


# ---------------------------------------------------------------------------------------
# Deliveries: the results webhook's attempts
# ---------------------------------------------------------------------------------------


def record_delivery(
    db: Database, *, run_id: str, url: str, attempt: int, status_code: int | None, ok: bool,
    error: str | None, seconds: float,
) -> None:
    """Record one attempt to post the run's results (each attempt is its own row)."""
    with db.session() as session:
        session.add(Delivery(run_id=run_id, url=url, attempt=attempt, status_code=status_code,
                             ok=ok, error=error, seconds=float(seconds), created_at=utcnow()))


def deliveries(db: Database, run_id: str) -> list[dict[str, Any]]:
    """Every recorded attempt to post the run's results, oldest first."""
    with db.session() as session:
        return _delivery_dicts(session, run_id)


def _delivery_dicts(session: Session, run_id: str) -> list[dict[str, Any]]:
    return [{"url": d.url, "attempt": d.attempt, "status_code": d.status_code, "ok": d.ok,
             "error": d.error, "seconds": d.seconds, "created_at": _iso(d.created_at)}
            for d in _rows_of_run(session, Delivery, run_id)]
