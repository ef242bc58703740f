"""Cost and resources end to end: two real classic runs under a Prefect harness leave a
stage_metrics row per stage and product or canvas, a cost in `report --json`, in the
HTML report and in the `campaign-cost` artifact, and `adforge stats` counts both."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from adforge.demo import DEMO_COPY
from adforge_app.cli import app
from flows.stage_runs import ALL_STAGES
from tests.campaign_inputs import write_campaign

pytestmark = pytest.mark.slow

KINDS = ("bottle", "box")
PLATFORMS = ["instagram_post", "blog_header"]
CANVAS_STAGES = [name for name, _ in ALL_STAGES if name != "segment"]


def _rows(env: Path, query: str) -> list[Any]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as connection:
        return list(connection.execute(sa.text(query)).mappings())


def _campaign_cost_artifact(flow_run_id: str) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    wanted = ArtifactFilter(key=ArtifactFilterKey(any_=["campaign-cost"]),
                            flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(flow_run_id)]))
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(artifact_filter=wanted)
    data = artifact.data
    return json.loads(data) if isinstance(data, str) else data


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory,
             prefect_harness: None) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """Two runs of the same brief (the second resumes from the stage cache, and is
    metered all the same), in AdForge state of their own (the `adforge_env` layout),
    kept for the module's tests."""
    from flows.brand_content import brand_content

    env = tmp_path_factory.mktemp("cost")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADFORGE_HOME", str(env / "state"))
        patch.setenv("ADFORGE_OUT_DIR", str(env / "outputs"))
        brief, brand = write_campaign(env / "in", KINDS, size=384)
        runs = [brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS)
                for _ in range(2)]
        assert [run["status"] for run in runs] == ["completed", "completed"], runs
        yield env, runs


def test_every_stage_of_every_product_and_canvas_is_metered(
        campaign: tuple[Path, list[dict[str, Any]]]) -> None:
    env, runs = campaign
    run_id = runs[0]["run_id"]
    rows = _rows(env, f"select * from stage_metrics where run_id = '{run_id}'")

    skus = {DEMO_COPY[kind]["sku"] for kind in KINDS}
    expected = {(sku, "", "segment") for sku in skus} | {
        (sku, platform, stage) for sku in skus for platform in PLATFORMS
        for stage in CANVAS_STAGES}
    assert {(r["sku"], r["platform"], r["stage"]) for r in rows} == expected
    assert len(rows) == len(expected)  # one row each
    for row in rows:
        assert row["wall_s"] > 0 and row["cpu_s"] >= 0, row
        assert row["gpu_s"] == 0 and row["gpu_peak_bytes"] is None, row  # no GPU here
        assert row["load_s"] == 0, row  # classic: no model loads


def test_report_html_and_artifact_show_the_cost(
        campaign: tuple[Path, list[dict[str, Any]]]) -> None:
    env, runs = campaign
    first = runs[0]
    report = CliRunner().invoke(app, ["report", first["run_id"], "--json"])
    assert report.exit_code == 0, report.output
    summary = json.loads(report.output)

    for product in summary["products"]:
        cost = product["cost"]
        assert cost["usd"] > 0 and cost["cpu_s"] > 0 and cost["gpu_s"] == 0, product["sku"]
        assert set(cost["by_stage"]) == {name for name, _ in ALL_STAGES}
        assert set(cost["by_platform"]) == set(PLATFORMS)
    run_usd = summary["cost"]["usd"]
    assert run_usd == pytest.approx(sum(p["cost"]["usd"] for p in summary["products"]))
    assert summary["cost"]["prices"]["gpu_usd_per_hour"] == 6.88
    html = (Path(first["out_dir"]) / "report.html").read_text(encoding="utf-8")
    assert html.count("· cost $") == 1 + len(KINDS)  # the run's, and each product's

    flow_run_id = _rows(env, f"select flow_run_id from runs where id = "
                                     f"'{first['run_id']}'")[0]["flow_run_id"]
    table = {row["stage"]: row for row in _campaign_cost_artifact(flow_run_id)}
    assert set(table) == {name for name, _ in ALL_STAGES} | {"run"}
    assert float(table["run"]["USD"]) == pytest.approx(run_usd, abs=1e-6)


def test_stats_counts_both_runs(campaign: tuple[Path, list[dict[str, Any]]]) -> None:
    result = CliRunner().invoke(app, ["stats", "--since", "1d", "--json"])

    assert result.exit_code == 0, result.output
    (classic,) = json.loads(result.output)["profiles"]
    assert classic["profile"] == "classic"
    assert (classic["runs"], classic["products"], classic["failed"]) == (2, 2 * len(KINDS), 0)
    assert classic["metered_products"] == 2 * len(KINDS)
    assert classic["median_seconds_per_product"] > 0
    assert classic["median_usd_per_product"] > 0
