"""The stage_metrics rows: written per batch, replaced on a rerun, summed into a run's
and a product's cost, aggregated by profile; and the migration that adds the table,
upgrading a database made by the previous release with its rows intact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from adforge.db import Database, open_database
from adforge.db import repository as repo
from adforge.db.database import alembic_config, create_tracking_engine
from adforge.db.metrics import costed_summary, record_stage_metrics, run_cost, stage_metrics
from adforge.db.stats import campaign_stats
from adforge.metering import Usage
from adforge.settings import CostSettings

PRICES = CostSettings(gpu_usd_per_hour=3600.0, cpu_usd_per_hour=36.0)  # $1/GPU-s, 1¢/CPU-s


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    return open_database(f"sqlite:///{tmp_path / 'adforge.db'}")


def _run(db: Database, run_id: str, profile: str, skus: dict[str, str]) -> None:
    """A run of `profile` whose products end with the given statuses."""
    repo.start_run(db, run_id=run_id, brief="b.csv", brief_sha256=run_id, brand="acme",
                   profile=profile)
    for sku, status in skus.items():
        repo.upsert_product(db, run_id=run_id, sku=sku, name="", source_uri="x.png")
        repo.set_product_status(db, run_id, sku, status)  # type: ignore[arg-type]


def test_a_batchs_rows_are_written_once_and_replaced_on_a_rerun(db: Database) -> None:
    _run(db, "r1", "classic", {"A": "done"})
    first = [("A", "instagram_post", Usage(wall_s=2.0, cpu_s=1.0)),
             ("A", "blog_header", Usage(wall_s=2.0, cpu_s=1.0))]
    record_stage_metrics(db, "r1", "composite", first)
    record_stage_metrics(db, "r1", "composite", [("A", "blog_header", Usage(3.0, 1.5))])

    rows = {(row["platform"], row["stage"]): row for row in stage_metrics(db, "r1")}
    assert len(rows) == 2
    assert rows[("blog_header", "composite")]["wall_s"] == 3.0  # the last measurement
    assert rows[("instagram_post", "composite")]["cpu_s"] == 1.0
    record_stage_metrics(db, "r1", "segment", [])  # an empty batch writes nothing
    assert len(stage_metrics(db, "r1")) == 2


def test_cost_per_product_per_stage_and_per_platform(db: Database) -> None:
    _run(db, "r1", "gpu-24gb", {"A": "done", "B": "failed"})
    record_stage_metrics(db, "r1", "segment", [
        ("A", "", Usage(wall_s=1.0, cpu_s=0.5, gpu_s=0.25, gpu_peak_bytes=5, load_s=0.1)),
        ("B", "", Usage(wall_s=1.0, cpu_s=0.5, gpu_s=0.25, gpu_peak_bytes=5, load_s=0.1))])
    record_stage_metrics(db, "r1", "text", [
        ("A", "instagram_post", Usage(wall_s=4.0, cpu_s=2.0, gpu_s=1.0, gpu_peak_bytes=9)),
        ("A", "blog_header", Usage(wall_s=4.0, cpu_s=2.0, gpu_s=1.0, gpu_peak_bytes=9))])

    cost = run_cost(db, "r1", PRICES)

    a = cost["products"]["A"]
    assert a["gpu_s"] == pytest.approx(2.25) and a["cpu_s"] == pytest.approx(4.5)
    assert a["usd"] == pytest.approx(2.25 + 0.045)
    assert a["gpu_peak_bytes"] == 9 and a["load_s"] == pytest.approx(0.1)
    assert set(a["by_stage"]) == {"segment", "text"}
    assert a["by_stage"]["text"]["usd"] == pytest.approx(2.04)
    assert set(a["by_platform"]) == {"instagram_post", "blog_header"}  # segment: no platform
    assert a["by_platform"]["blog_header"]["wall_s"] == pytest.approx(4.0)
    run = cost["run"]
    assert run["usd"] == pytest.approx(a["usd"] + cost["products"]["B"]["usd"])
    assert run["prices"] == PRICES.model_dump()


def test_the_summary_carries_cost_even_for_a_product_with_no_rows(db: Database) -> None:
    _run(db, "r1", "classic", {"A": "done", "OLD": "done"})
    record_stage_metrics(db, "r1", "segment", [("A", "", Usage(wall_s=1.0, cpu_s=3600.0))])

    summary = costed_summary(db, "r1", CostSettings(cpu_usd_per_hour=0.05))

    costs = {product["sku"]: product["cost"] for product in summary["products"]}
    assert costs["A"]["usd"] == pytest.approx(0.05)
    assert costs["OLD"]["usd"] == 0 and costs["OLD"]["by_stage"] == {}
    assert summary["cost"]["usd"] == pytest.approx(0.05)


def test_stats_by_profile_over_two_runs(db: Database) -> None:
    _run(db, "r1", "classic", {"A": "done", "B": "failed"})
    _run(db, "r2", "classic", {"C": "done", "D": "needs-review"})
    _run(db, "r3", "tiny", {"E": "done"})
    for run_id, sku, wall, cpu in (("r1", "A", 1.0, 36.0), ("r1", "B", 3.0, 72.0),
                                   ("r2", "C", 2.0, 36.0), ("r2", "D", 10.0, 36.0),
                                   ("r3", "E", 5.0, 0.0)):
        record_stage_metrics(db, run_id, "segment", [(sku, "", Usage(wall, cpu / 2))])
        record_stage_metrics(db, run_id, "text", [(sku, "p", Usage(0.0, cpu / 2))])

    result = campaign_stats(db, PRICES)

    classic, tiny = result["profiles"]
    assert (classic["profile"], classic["runs"], classic["products"]) == ("classic", 2, 4)
    assert classic["failed"] == 1 and classic["failure_rate"] == 0.25
    assert classic["median_seconds_per_product"] == pytest.approx(2.5)  # of 1, 3, 2, 10
    assert classic["median_usd_per_product"] == pytest.approx(0.36)  # of .36 .72 .36 .36
    assert classic["usd"] == pytest.approx(1.80)
    assert (tiny["profile"], tiny["runs"], tiny["products"], tiny["failed"]) == (
        "tiny", 1, 1, 0)


def test_stats_since_leaves_older_runs_out(db: Database) -> None:
    _run(db, "old", "classic", {"A": "done"})
    _run(db, "new", "classic", {"B": "done"})
    with db.session() as session:
        session.execute(text("update runs set started_at = :when where id = 'old'"),
                        {"when": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)})

    result = campaign_stats(db, PRICES, since=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))

    assert [(p["runs"], p["products"]) for p in result["profiles"]] == [(1, 1)]
    assert result["profiles"][0]["median_usd_per_product"] is None  # no rows metered
    assert result["since"] == "2024-01-01T00:00:00+00:00"


PREVIOUS_RELEASE_ROWS = (
    "insert into runs (id, brief, brief_sha256, brand, profile, status, started_at, "
    "n_products, n_failed) values ('r0', 'b.csv', 's', 'acme', 'classic', 'completed', "
    "'2025-06-01 10:00:00+00:00', 1, 0)",
    "insert into products (run_id, sku, name, source_uri, status) "
    "values ('r0', 'A1', 'Mug', 'a.png', 'needs-review')",
    "insert into renditions (run_id, sku, platform, width, height, uri, asset_key, backends) "
    "values ('r0', 'A1', 'blog_header', 1200, 630, 'file:///a.png', 'k', null)",
    "insert into reviews (run_id, sku, platform, status, failing, picture, asset_key, "
    "created_at) values ('r0', 'A1', 'instagram_post', 'pending', '[]', 'p.png', 'k2', "
    "'2025-06-01 10:01:00+00:00')",
)


def test_the_migration_upgrades_a_database_of_the_previous_release(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_tracking_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")  # as the previous release left it
        for statement in PREVIOUS_RELEASE_ROWS:
            connection.execute(text(statement))
    assert "stage_metrics" not in inspect(engine).get_table_names()
    engine.dispose()

    db = open_database(url)  # upgrades to head, as the new release does on first use

    assert {"stage_metrics", "deliveries"} <= set(inspect(db.engine).get_table_names())
    summary = costed_summary(db, "r0", PRICES)
    assert (summary["status"], summary["n_products"]) == ("completed", 1)
    product = summary["products"][0]
    assert (product["sku"], product["name"], product["status"]) == ("A1", "Mug", "needs-review")
    assert [r["platform"] for r in product["renditions"]] == ["blog_header"]
    assert [r["status"] for r in product["reviews"]] == ["pending"]
    assert product["cost"]["usd"] == 0  # recorded before stage metrics were
    record_stage_metrics(db, "r0", "publish", [("A1", "blog_header", Usage(1.0, 0.5))])
    assert costed_summary(db, "r0", PRICES)["cost"]["usd"] == pytest.approx(0.005)
