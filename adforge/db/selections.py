"""The selections table: which drafted variants of a run went on to the final pass.

    record_selection(db, run_id, scores, selection)   one row per drafted variant
    selections(db, run_id)                            the rows, best first per product
    flow_run_of(db, run_id)                           the Prefect flow run `adforge select`
                                                      resumes

Every drafted variant gets a row, kept or not, with its draft score and the score's
terms, so a report can say why the kept one won. Selecting again (a person after the
automatic pick, a retried step) replaces the products' rows: a product's rows always
hold its last selection, never a mix of two.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from adforge.db.database import Database
from adforge.db.models import Run, SelectionRecord
from adforge.db.repository import _iso, _upsert
from adforge.errors import InputError
from adforge.variants import Selection, VariantScore

KEY = ("run_id", "sku", "variant")
CHOSEN = ("kept", "score", "terms", "selected_by", "selected_at")


def record_selection(db: Database, run_id: str, scores: list[VariantScore],
                     selection: Selection) -> None:
    """Record (or replace) the selection of every product in `scores`: one row per
    drafted variant, `kept` when the selection keeps its record key. Rows of those
    products' variants that are no longer drafted are removed."""
    drafted = list({item.key: item for item in scores}.values())  # one row per key
    if not drafted:
        return
    kept = selection.keys()
    rows = [{"run_id": run_id, "sku": item.sku, "variant": item.key,
             "kept": item.key in kept, "score": item.score, "terms": dict(item.terms),
             "selected_by": selection.by, "selected_at": selection.at} for item in drafted]
    with db.session() as session:
        _upsert(session, SelectionRecord, rows, KEY, CHOSEN)
        session.execute(delete(SelectionRecord).where(
            SelectionRecord.run_id == run_id,
            SelectionRecord.sku.in_(sorted({item.sku for item in drafted})),
            SelectionRecord.variant.not_in(sorted(item.key for item in drafted))))


def selections(db: Database, run_id: str) -> list[dict[str, Any]]:
    """A run's selection rows: by SKU, each product's variants best score first (ties
    by record key), `selected_at` as ISO-8601 UTC."""
    query = (select(SelectionRecord).where(SelectionRecord.run_id == run_id)
             .order_by(SelectionRecord.sku, SelectionRecord.score.desc(),
                       SelectionRecord.variant))
    with db.session() as session:
        return [{"run_id": row.run_id, "sku": row.sku, "variant": row.variant,
                 "kept": row.kept, "score": row.score, "terms": row.terms,
                 "selected_by": row.selected_by, "selected_at": _iso(row.selected_at)}
                for row in session.scalars(query)]


def flow_run_of(db: Database, run_id: str) -> str:
    """The id of the Prefect flow run that made tracking run `run_id`; an unknown run,
    or one made without Prefect, is refused with a hint."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise InputError(f"run {run_id} is not in the tracking database; check the id "
                             "(`adforge report` shows the latest run)", item=run_id)
        if not run.flow_run_id:
            raise InputError(f"run {run_id} has no Prefect flow run to resume", item=run_id)
        return run.flow_run_id
