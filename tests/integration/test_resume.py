"""Crash-safe resume on S3 + PostgreSQL: a run killed with SIGKILL, and a failed product."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.integration.campaign import (
    cli_process,
    duplicate_rows,
    prefect_api_url,
    rows,
    sku,
    temp_files,
    upload_folder,
    write_campaign,
)
from tests.integration.conftest import S3Env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PLATFORMS = ["instagram_post", "instagram_story", "blog_header", "twitter_card"]
MANIFEST = re.compile(r"^campaigns/composite/[0-9a-f]{2}/[0-9a-f]{64}\.json$")


def _run(brief: Path | str, brand: Path | str, s3_env: S3Env, pg_url: str) -> dict:
    from flows.brand_content import brand_content

    with pytest.MonkeyPatch.context() as env:  # a worker's own setting, never a parameter
        env.setenv("ADFORGE_DB_URL", pg_url)
        return brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS,
                             store=s3_env.store)


def _last_modified(s3_env: S3Env, uri: str) -> dt.datetime:
    key = uri.removeprefix(f"s3://{s3_env.bucket}/")
    return s3_env.server.client().head_object(Bucket=s3_env.bucket, Key=key)["LastModified"]


def _started_at(pg_url: str, run_id: str) -> dt.datetime:
    [(started,)] = rows(pg_url, f"select started_at from runs where id = '{run_id}'")
    return started


def _kill_when_composites_exist(s3_env: S3Env, process, timeout_s: float = 240) -> None:
    """SIGKILL the run as soon as a composite stage manifest is stored (mid-run)."""
    deadline = time.monotonic() + timeout_s
    while not any(MANIFEST.match(key) for key in s3_env.keys("campaigns/composite/")):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no composite manifest appeared"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_sigkill_then_rerun_resumes_without_duplicates(
    adforge_env: Path, s3_env: S3Env, pg_url: str
) -> None:
    brief, brand = write_campaign(adforge_env / "in", ("bottle", "box", "jar"))
    args = ["run", str(brief), "--brand", str(brand), "--platforms", ",".join(PLATFORMS),
            "--store", s3_env.store, "--db", pg_url]
    process = cli_process(args, prefect_api_url(), adforge_env / "killed.log")
    _kill_when_composites_exist(s3_env, process)

    [(killed, status)] = rows(pg_url, "select id, status from runs")
    assert process.returncode == -signal.SIGKILL and status == "running"
    done_before = rows(pg_url, f"select uri from assets where first_run_id = '{killed}'")
    assert done_before, "the killed run had finished some stages"

    result = _run(brief, brand, s3_env, pg_url)

    assert result["status"] == "completed", result["failed"]
    [(resumed_from,)] = rows(pg_url, f"select resumed_from from runs where id = "
                                     f"'{result['run_id']}'")
    assert resumed_from == killed
    assert duplicate_rows(pg_url) == 0
    assert rows(pg_url, f"select count(*) from renditions where run_id = "
                        f"'{result['run_id']}'") == [(3 * len(PLATFORMS),)]
    started = _started_at(pg_url, result["run_id"])
    for (uri,) in done_before:  # finished stages were skipped: their objects are untouched
        assert _last_modified(s3_env, uri) < started, uri
    assert temp_files(adforge_env) == []
    client = s3_env.server.client()
    assert not client.list_multipart_uploads(Bucket=s3_env.bucket).get("Uploads")
    assert not any(key.endswith(".tmp") for key in s3_env.keys())


def test_failed_product_is_retried_and_finished_one_is_not(
    adforge_env: Path, s3_env: S3Env, pg_url: str
) -> None:
    write_campaign(adforge_env / "in", ("bottle", "box"))
    good_photo = (adforge_env / "in" / "photos" / "box.png").read_bytes()
    (adforge_env / "in" / "photos" / "box.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    inputs = upload_folder(s3_env, adforge_env / "in", "inputs")
    brief, brand = f"{inputs}/brief.csv", f"{inputs}/brand.yaml"

    first = _run(brief, brand, s3_env, pg_url)
    assert first["status"] == "partial" and set(first["failed"]) == {sku("box")}
    s3_env.server.client().put_object(Bucket=s3_env.bucket, Key="inputs/photos/box.png",
                                      Body=good_photo)
    second = _run(brief, brand, s3_env, pg_url)

    assert second["status"] == "completed", second["failed"]
    statuses = dict(rows(pg_url, f"select sku, status from products where run_id = "
                                 f"'{second['run_id']}'"))
    assert statuses == {sku("bottle"): "done", sku("box"): "done"}
    [(resumed_from,)] = rows(pg_url, f"select resumed_from from runs where id = "
                                     f"'{second['run_id']}'")
    assert resumed_from == first["run_id"]
    started = _started_at(pg_url, second["run_id"])
    first_assets = rows(pg_url, f"select uri from assets where first_run_id = "
                                f"'{first['run_id']}'")
    assert first_assets
    for (uri,) in first_assets:  # the finished product's stages did not run again
        assert _last_modified(s3_env, uri) < started, uri
    new_stages = rows(pg_url, f"select stage, count(*) from assets where first_run_id = "
                              f"'{second['run_id']}' group by stage")
    assert dict(new_stages)["segment"] == 1  # only the fixed product was segmented
    assert duplicate_rows(pg_url) == 0
