"""`adforge stats` and the cost in `adforge report`, on a tracking database written the
way the pipeline writes it (the end-to-end runs: tests/flows/test_cost.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adforge.db import open_database
from adforge.db import repository as repo
from adforge.db.metrics import record_stage_metrics
from adforge.errors import InputError
from adforge.metering import Usage
from adforge_app.cli import app
from adforge_app.cli_stats import since_moment

runner = CliRunner()
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture()
def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with two classic runs of two products each, one product failed; CPU
    priced at $3.60 an hour (a tenth of a cent a second)."""
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ADFORGE_COST__CPU_USD_PER_HOUR", "3.6")
    url = f"sqlite:///{tmp_path / 'adforge.db'}"
    db = open_database(url)
    for run_id, statuses in (("r1", ("done", "done")), ("r2", ("done", "failed"))):
        repo.start_run(db, run_id=run_id, brief="b.csv", brief_sha256=run_id, brand="acme",
                       profile="classic")
        for n, status in enumerate(statuses):
            sku = f"{run_id}-{n}"
            repo.upsert_product(db, run_id=run_id, sku=sku, name="", source_uri="x.png")
            repo.set_product_status(db, run_id, sku, status)  # type: ignore[arg-type]
            record_stage_metrics(db, run_id, "segment", [(sku, "", Usage(1.0 + n, 2.0))])
    return url


@pytest.mark.parametrize(("text", "moment"), [
    ("7d", NOW - dt.timedelta(days=7)), ("12h", NOW - dt.timedelta(hours=12)),
    ("30m", NOW - dt.timedelta(minutes=30)), ("2w", NOW - dt.timedelta(weeks=2)),
    ("2026-01-31", dt.datetime(2026, 1, 31, tzinfo=dt.UTC)),
    ("2026-01-31T08:00:00+02:00", dt.datetime(2026, 1, 31, 6, tzinfo=dt.UTC)),
])
def test_since_takes_a_window_or_a_date(text: str, moment: dt.datetime) -> None:
    assert since_moment(text, NOW) == moment


def test_since_refuses_what_it_cannot_read() -> None:
    with pytest.raises(InputError, match="neither a window"):
        since_moment("last tuesday", NOW)


def test_stats_json_aggregates_both_runs(two_runs: str) -> None:
    result = runner.invoke(app, ["stats", "--json", "--db", two_runs])

    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    (classic,) = stats["profiles"]
    assert (classic["runs"], classic["products"], classic["failed"]) == (2, 4, 1)
    assert classic["failure_rate"] == 0.25
    assert classic["median_seconds_per_product"] == pytest.approx(1.5)  # of 1, 2, 1, 2
    assert classic["median_usd_per_product"] == pytest.approx(0.002)  # 2 CPU s each
    assert stats["prices"]["cpu_usd_per_hour"] == 3.6


def test_stats_since_a_window_and_as_a_table(two_runs: str) -> None:
    recent = runner.invoke(app, ["stats", "--since", "1d", "--db", two_runs])
    assert recent.exit_code == 0, recent.output
    assert "classic" in recent.output and "25.0%" in recent.output
    future = runner.invoke(app, ["stats", "--since", "2999-01-01", "--json", "--db", two_runs])
    assert json.loads(future.output)["profiles"] == []
    bad = runner.invoke(app, ["stats", "--since", "soon", "--db", two_runs])
    assert bad.exit_code == 2 and "--since" in bad.output


def test_report_json_has_the_cost_of_each_product_and_of_the_run(two_runs: str) -> None:
    result = runner.invoke(app, ["report", "r2", "--json", "--db", two_runs])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    costs = [product["cost"] for product in summary["products"]]
    assert [cost["usd"] for cost in costs] == [pytest.approx(0.002)] * 2
    assert [cost["wall_s"] for cost in costs] == [pytest.approx(1.0), pytest.approx(2.0)]
    assert set(costs[0]["by_stage"]) == {"segment"}
    assert summary["cost"]["usd"] == pytest.approx(0.004)
    table = runner.invoke(app, ["report", "r2", "--db", two_runs])
    assert table.exit_code == 0 and "0.002000" in table.output
