"""The stage_metrics rows: what each stage used for each product or canvas, and what a
run cost at the configured prices.

    record_stage_metrics(db, run_id, "composite", metering.shares(usage, units))
    run_cost(db, run_id, prices)          {"run": {...}, "products": {sku: {...}}}
    costed_summary(db, run_id, prices)    run_summary with `cost` per product and run

A row is keyed by (run, sku, platform, stage), platform "" for a product-level stage
(segment). Writing a batch's rows again (a retried task, a canvas made again by the
renditions flow) replaces them: a row holds the last measurement of its unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from adforge.db.database import Database
from adforge.db.models import StageMetric, utcnow
from adforge.db.repository import _dialect_insert, _upsert_portable, run_summary
from adforge.metering import Usage, cost_usd
from adforge.settings import CostSettings

KEY = ("run_id", "sku", "platform", "stage")
MEASURED = ("wall_s", "cpu_s", "gpu_s", "gpu_peak_bytes", "load_s", "created_at")
SECONDS = ("wall_s", "cpu_s", "gpu_s", "load_s")


def record_stage_metrics(db: Database, run_id: str, stage: str,
                         shares: Iterable[tuple[str, str, Usage]]) -> None:
    """Record (or replace) one stage's usage of each unit of a batch, (sku, platform,
    usage) each, in one transaction: where the dialect can upsert, one statement run
    over every row (compiled once and cached, whatever the batch's size)."""
    now = utcnow()
    values = [{"run_id": run_id, "sku": sku, "platform": platform, "stage": stage,
               "wall_s": usage.wall_s, "cpu_s": usage.cpu_s, "gpu_s": usage.gpu_s,
               "gpu_peak_bytes": usage.gpu_peak_bytes, "load_s": usage.load_s,
               "created_at": now} for sku, platform, usage in shares]
    if not values:
        return
    with db.session() as session:
        insert = _dialect_insert(session)
        if insert is None:
            for row in values:
                _upsert_portable(session, StageMetric, row, KEY, MEASURED)
            return
        statement = insert(StageMetric)
        session.execute(statement.on_conflict_do_update(
            index_elements=list(KEY), set_={name: statement.excluded[name] for name in MEASURED}),
            values)


def stage_metrics(db: Database, run_id: str) -> list[dict[str, Any]]:
    """Every stage_metrics row of a run, as plain dicts, in the order they were written."""
    with db.session() as session:
        rows = session.scalars(select(StageMetric).where(StageMetric.run_id == run_id)
                               .order_by(StageMetric.id))
        return [{name: getattr(row, name) for name in (*KEY, *MEASURED)} for row in rows]


def totals(rows: list[dict[str, Any]], prices: CostSettings) -> dict[str, Any]:
    """The seconds of `rows` summed, their peak GPU memory, and what they cost."""
    sums = {name: sum(row[name] for row in rows) for name in SECONDS}
    peaks = [row["gpu_peak_bytes"] for row in rows if row["gpu_peak_bytes"] is not None]
    usd = cost_usd(sums["cpu_s"], sums["gpu_s"], prices.cpu_usd_per_hour,
                   prices.gpu_usd_per_hour)
    return {"usd": usd, **sums, "gpu_peak_bytes": max(peaks) if peaks else None}


def _grouped(rows: list[dict[str, Any]], field: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[field]].append(row)
    return groups


def cost_of(rows: list[dict[str, Any]], prices: CostSettings) -> dict[str, Any]:
    """Totals of `rows`, with the same by stage and, for the canvases among them, by
    platform (a product-level stage, segment, belongs to no platform)."""
    canvases = [row for row in rows if row["platform"]]
    return totals(rows, prices) | {
        "by_stage": {stage: totals(group, prices)
                     for stage, group in _grouped(rows, "stage").items()},
        "by_platform": {platform: totals(group, prices)
                        for platform, group in _grouped(canvases, "platform").items()}}


def run_cost(db: Database, run_id: str, prices: CostSettings) -> dict[str, Any]:
    """A run's cost: for the run (with the prices used) and for each product."""
    rows = stage_metrics(db, run_id)
    run = cost_of(rows, prices) | {"prices": prices.model_dump()}
    return {"run": run, "products": {sku: cost_of(group, prices)
                                     for sku, group in _grouped(rows, "sku").items()}}


def costed_summary(db: Database, run_id: str, prices: CostSettings) -> dict[str, Any]:
    """`repository.run_summary` with a `cost` for each product and for the run (a
    product with no rows, as in a run recorded before stage metrics were, costs 0)."""
    summary = run_summary(db, run_id)
    cost = run_cost(db, run_id, prices)
    for product in summary["products"]:
        product["cost"] = cost["products"].get(product["sku"]) or cost_of([], prices)
    summary["cost"] = cost["run"]
    return summary
