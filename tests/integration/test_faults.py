"""Faults on real servers: S3 down for a whole run, then back; two runs of one brief at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from adforge.storage.s3 import S3Store
from tests.integration.campaign import (
    cli_process,
    duplicate_rows,
    prefect_api_url,
    rows,
    sku,
    write_campaign,
)
from tests.integration.conftest import S3Env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PLATFORMS = ["instagram_post", "blog_thumbnail"]
KINDS = ("bottle", "jar")


def _run(brief: Path, brand: Path, s3_env: S3Env, pg_url: str) -> dict:
    """The run's summary, also when it failed (its state carries it)."""
    from flows.brand_content import brand_content, outcome_of

    with pytest.MonkeyPatch.context() as env:  # a worker's own setting, never a parameter
        env.setenv("ADFORGE_DB_URL", pg_url)
        return outcome_of(brand_content(brief=str(brief), brand=str(brand),
                                        platforms=PLATFORMS, store=s3_env.store,
                                        return_state=True))


def test_s3_outage_keeps_local_work_and_a_later_run_publishes_it(
    adforge_env: Path, s3_env: S3Env, pg_url: str
) -> None:
    brief, brand = write_campaign(adforge_env / "in", KINDS)
    s3_env.server.stop()
    try:
        down = _run(brief, brand, s3_env, pg_url)
    finally:
        s3_env.server.start()
    s3_env.create_bucket()  # the restarted server is empty, like a fresh bucket

    # While S3 was down: every product is failed-retryable, its work kept locally
    assert down["status"] == "failed" and set(down["failed"]) == {sku(k) for k in KINDS}
    run1 = down["run_id"]
    products = rows(pg_url, f"select status from products where run_id = '{run1}'")
    assert products == [("failed-retryable",)] * len(KINDS)
    kinds = rows(pg_url, f"select distinct kind from errors where run_id = '{run1}' "
                         "and sku is not null")
    assert kinds == [("transient",)]
    assert rows(pg_url, f"select count(*) from renditions where run_id = '{run1}'") == [(0,)]
    # the run's spool: ADFORGE_HOME (adforge_env) / spool
    spool = S3Store.from_uri(s3_env.store, s3_env.settings(),
                             spool_root=adforge_env / "state" / "spool")
    assert spool.pending_keys()
    for kind in KINDS:
        assert (Path(down["out_dir"]) / sku(kind) / "instagram_post.jpg").is_file()

    # S3 is back: the next run uploads the spool, recomputes nothing and publishes
    up = _run(brief, brand, s3_env, pg_url)

    assert up["status"] == "completed", up["failed"]
    run2 = up["run_id"]
    assert rows(pg_url, f"select resumed_from from runs where id = '{run2}'") == [(run1,)]
    assert spool.pending_keys() == []
    assert rows(pg_url, f"select count(*) from assets where first_run_id = '{run2}'") == [(0,)]
    renditions = rows(pg_url, f"select uri from renditions where run_id = '{run2}'")
    assert len(renditions) == len(KINDS) * len(PLATFORMS)
    stored = set(s3_env.keys())
    for (uri,) in renditions + rows(pg_url, "select uri from assets"):
        assert uri.removeprefix(f"s3://{s3_env.bucket}/") in stored, uri
    assert duplicate_rows(pg_url) == 0


def test_two_concurrent_runs_of_one_brief_duplicate_nothing(
    adforge_env: Path, s3_env: S3Env, pg_url: str
) -> None:
    brief, brand = write_campaign(adforge_env / "in", KINDS)
    args = ["run", str(brief), "--brand", str(brand), "--platforms", ",".join(PLATFORMS),
            "--store", s3_env.store, "--db", pg_url]
    api = prefect_api_url()
    processes = [cli_process(args, api, adforge_env / f"run{i}.log") for i in range(2)]
    for i, process in enumerate(processes):
        assert process.wait(timeout=300) == 0, (adforge_env / f"run{i}.log").read_text()[-3000:]

    runs = rows(pg_url, "select id, status from runs")
    errors = rows(pg_url, "select sku, stage, kind, message from errors")
    assert len(runs) == 2 and {status for _, status in runs} == {"completed"}, errors
    for run_id, _ in runs:
        assert rows(pg_url, f"select count(*) from renditions where run_id = '{run_id}'") \
            == [(len(KINDS) * len(PLATFORMS),)]
    assert duplicate_rows(pg_url) == 0
    stored = set(s3_env.keys())
    for (uri,) in rows(pg_url, "select uri from assets"):
        assert uri.removeprefix(f"s3://{s3_env.bucket}/") in stored, uri
