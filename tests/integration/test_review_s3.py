"""The review queue on S3 + PostgreSQL: a held canvas is uploaded nowhere under the
delivery prefix; `adforge approve` delivers it there (the same bytes as the local file),
records its rows once, and refreshes the uploaded report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adforge_app.cli import app
from tests.integration.campaign import duplicate_rows, rows
from tests.integration.conftest import S3Env
from tests.review_inputs import CLEAN_SKU, CLUTTERED_SKU, write_review_campaign

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PLATFORMS = ["instagram_post", "blog_thumbnail"]


def test_approve_delivers_a_held_canvas_to_the_s3_delivery_prefix(
        adforge_env: Path, s3_env: S3Env, pg_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.brand_content import brand_content

    monkeypatch.setenv("ADFORGE_DB_URL", pg_url)  # a worker's own setting, never a parameter
    brief, brand = write_review_campaign(adforge_env / "in")
    result = brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS,
                           store=s3_env.store)
    run_id = result["run_id"]
    delivery = f"campaigns/runs/{run_id}/delivery"

    # 1. Held: the clean product is under the delivery prefix, the cluttered one is not
    assert result["status"] == "partial" and set(result["in_review"]) == {CLUTTERED_SKU}
    assert sorted(s3_env.keys(delivery)) == [f"{delivery}/{CLEAN_SKU}/{p}.jpg"
                                             for p in sorted(PLATFORMS)]
    assert rows(pg_url, f"select count(*) from renditions where sku = '{CLUTTERED_SKU}'") == [
        (0,)]
    listed = CliRunner().invoke(app, ["review", run_id, "--json"])
    items = json.loads(listed.output)["items"]
    assert all(item["picture"].startswith(f"s3://{s3_env.bucket}/campaigns/text/blobs/")
               for item in items)  # the stored ad: the uploaded report can show it

    # 2. Approved: delivered like a passing canvas, rows once, the report refreshed
    approved = CliRunner().invoke(app, ["approve", run_id, CLUTTERED_SKU, "--by", "ana",
                                        "--store", s3_env.store])
    assert approved.exit_code == 0, approved.output
    client = s3_env.server.client()
    local = Path(result["out_dir"]) / CLUTTERED_SKU
    for platform in PLATFORMS:
        obj = client.get_object(Bucket=s3_env.bucket,
                                Key=f"{delivery}/{CLUTTERED_SKU}/{platform}.jpg")
        assert obj["Body"].read() == (local / f"{platform}.jpg").read_bytes()
    uris = rows(pg_url, f"select uri from renditions where sku = '{CLUTTERED_SKU}'")
    assert len(uris) == len(PLATFORMS)
    assert all(uri.startswith(f"s3://{s3_env.bucket}/campaigns/text/blobs/") for (uri,) in uris)
    again = CliRunner().invoke(app, ["approve", run_id, CLUTTERED_SKU, "--platform",
                                     "instagram_post", "--store", s3_env.store])
    assert again.exit_code == 0 and "already approved" in again.output, again.output
    assert duplicate_rows(pg_url) == 0
    assert rows(pg_url, "select distinct status, decided_by from reviews") == [
        ("approved", "ana")]
    assert rows(pg_url, f"select status from runs where id = '{run_id}'") == [("completed",)]
    report = client.get_object(Bucket=s3_env.bucket, Key=f"campaigns/runs/{run_id}/report.html")
    assert "Needs review" not in report["Body"].read().decode()
