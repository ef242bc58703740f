"""stage_metrics on a real PostgreSQL cluster: a batch's rows in one upsert statement,
replaced when the batch runs again, and the cost and stats read back."""

from __future__ import annotations

import pytest

from adforge.db import open_database
from adforge.db import repository as repo
from adforge.db.metrics import record_stage_metrics, run_cost, stage_metrics
from adforge.db.stats import campaign_stats
from adforge.metering import Usage
from adforge.settings import CostSettings

pytestmark = pytest.mark.slow


def test_a_batch_upserts_and_costs_on_postgres(pg_url: str) -> None:
    db = open_database(pg_url)
    repo.start_run(db, run_id="cost-1", brief="b.csv", brief_sha256="s", brand="B",
                   profile="gpu-24gb")
    repo.upsert_product(db, run_id="cost-1", sku="A", name="", source_uri="x")
    batch = [("A", "instagram_post", Usage(2.0, 1.0, gpu_s=0.5, gpu_peak_bytes=2**33)),
             ("A", "blog_header", Usage(2.0, 1.0, gpu_s=0.5, gpu_peak_bytes=2**33))]
    record_stage_metrics(db, "cost-1", "background", batch)
    record_stage_metrics(db, "cost-1", "background", batch)  # a retried batch

    assert len(stage_metrics(db, "cost-1")) == 2
    prices = CostSettings(gpu_usd_per_hour=3600.0, cpu_usd_per_hour=0.0)
    cost = run_cost(db, "cost-1", prices)["products"]["A"]
    assert cost["usd"] == pytest.approx(1.0) and cost["gpu_peak_bytes"] == 2**33
    profiles = {row["profile"]: row for row in campaign_stats(db, prices)["profiles"]}
    assert profiles["gpu-24gb"]["median_usd_per_product"] == pytest.approx(1.0)
