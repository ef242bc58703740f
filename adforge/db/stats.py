"""What runs have cost lately, by profile (`adforge stats`).

    campaign_stats(db, prices, since=datetime)   {"since": ..., "profiles": [...]}

Per profile: runs started since then, their products, how many failed (and the rate),
and per product the median seconds (its stages' wall seconds: its share of each batch)
and median cost. Medians count only products that have stage_metrics rows (runs
recorded before those rows existed have none); a product that failed counts with what
its stages used before it failed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from statistics import median
from typing import Any

from sqlalchemy import Select, func, select

from adforge.db.database import Database
from adforge.db.models import Product, Run, StageMetric
from adforge.metering import cost_usd
from adforge.settings import CostSettings

FAILED = ("failed", "failed-retryable")


def campaign_stats(db: Database, prices: CostSettings,
                   since: dt.datetime | None = None) -> dict[str, Any]:
    """Runs, products, failures, median seconds and cost per product, by profile."""
    with db.session() as session:
        runs = session.execute(_since(select(Run.profile, func.count(Run.id)), since)
                               .group_by(Run.profile)).all()
        products = session.execute(_since(select(Run.profile, Product.status).join(
            Product, Product.run_id == Run.id), since)).all()
        used = session.execute(_since(select(
            Run.profile, func.sum(StageMetric.wall_s), func.sum(StageMetric.cpu_s),
            func.sum(StageMetric.gpu_s)).join(StageMetric, StageMetric.run_id == Run.id),
            since).group_by(Run.profile, StageMetric.run_id, StageMetric.sku)).all()
    statuses: dict[str, list[str]] = defaultdict(list)
    for profile, status in products:
        statuses[profile].append(status)
    per_product: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for profile, wall_s, cpu_s, gpu_s in used:
        usd = cost_usd(cpu_s, gpu_s, prices.cpu_usd_per_hour, prices.gpu_usd_per_hour)
        per_product[profile].append((wall_s, usd))
    rows = [_profile_row(profile, count, statuses[profile], per_product[profile])
            for profile, count in sorted(runs)]
    return {"since": None if since is None else since.isoformat(),
            "prices": prices.model_dump(), "profiles": rows}


def _since(query: Select[Any], since: dt.datetime | None) -> Select[Any]:
    return query if since is None else query.where(Run.started_at >= since)


def _profile_row(profile: str, runs: int, statuses: list[str],
                 products: list[tuple[float, float]]) -> dict[str, Any]:
    failed = sum(status in FAILED for status in statuses)
    return {
        "profile": profile, "runs": runs, "products": len(statuses), "failed": failed,
        "failure_rate": failed / len(statuses) if statuses else 0.0,
        "metered_products": len(products),
        "median_seconds_per_product": median(s for s, _ in products) if products else None,
        "median_usd_per_product": median(usd for _, usd in products) if products else None,
        "usd": sum(usd for _, usd in products),
    }
