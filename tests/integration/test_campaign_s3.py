"""The campaign from the CLI on S3 + PostgreSQL, inputs read from S3, against a local run."""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

import pytest

from adforge.specs import PRESETS
from tests.integration.campaign import (
    cli_process,
    duplicate_rows,
    prefect_api_url,
    rows,
    sku,
    upload_folder,
    write_campaign,
)
from tests.integration.conftest import SECRET, S3Env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

KINDS = ("bottle", "jar")
PRESIGNED = re.compile(r"https?://[^\s\"'<>]+X-Amz-Signature=[0-9a-f]+")


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url.replace("&amp;", "&"), timeout=10) as response:
        return response.read()


def test_cli_run_on_s3_and_postgres_matches_local_defaults(
    adforge_env: Path, s3_env: S3Env, pg_url: str
) -> None:
    from flows.brand_content import brand_content

    brief, brand = write_campaign(adforge_env / "in", KINDS)
    # 1. The local defaults: folder store, SQLite, local inputs
    local_result = brand_content(brief=str(brief), brand=str(brand),
                                 out_dir=str(adforge_env / "local"))
    assert local_result["status"] == "completed"
    # 2. The same campaign from the CLI, with inputs, store and tracking on the servers
    inputs = upload_folder(s3_env, adforge_env / "in", "inputs")
    log = adforge_env / "cli.log"
    process = cli_process(["run", f"{inputs}/brief.csv", "--brand", f"{inputs}/brand.yaml",
                           "--store", s3_env.store, "--db", pg_url,
                           "--out", str(adforge_env / "remote")], prefect_api_url(), log)
    assert process.wait(timeout=300) == 0, log.read_text()[-3000:]
    output = log.read_text(encoding="utf-8")

    [(run_id, status)] = rows(pg_url, "select id, status from runs")
    assert status == "completed"
    local_run = Path(local_result["out_dir"])
    for kind in KINDS:
        for platform in PRESETS:
            ours = adforge_env / "remote" / run_id / sku(kind) / f"{platform}.jpg"
            assert ours.read_bytes() == (local_run / sku(kind) / f"{platform}.jpg").read_bytes()
    # 3. Rows point at S3 objects, which carry the same bytes
    renditions = rows(pg_url, "select sku, platform, uri from renditions")
    assert len(renditions) == len(KINDS) * len(PRESETS)
    client = s3_env.server.client()
    for row_sku, platform, uri in renditions:
        assert uri.startswith(f"s3://{s3_env.bucket}/campaigns/text/blobs/"), uri  # the ad
        key = uri.removeprefix(f"s3://{s3_env.bucket}/")
        obj = client.get_object(Bucket=s3_env.bucket, Key=key)
        assert obj["ContentType"] == "image/jpeg" and "immutable" in obj["CacheControl"]
        assert obj["Body"].read() == (local_run / row_sku / f"{platform}.jpg").read_bytes()
    assert all(uri.startswith("s3://") for (uri,) in rows(pg_url, "select uri from assets"))
    assert duplicate_rows(pg_url) == 0
    products = rows(pg_url, "select source_uri from products order by sku")
    assert all(uri.startswith(f"{inputs}/photos/") for (uri,) in products)
    # 4. The report: uploaded, opened by its presigned link, images presigned too
    report_url = re.search(r"presigned link\): (\S+)", output)
    assert report_url, output
    page = _fetch(report_url.group(1)).decode()
    assert sku("bottle") in page
    links = PRESIGNED.findall(page)
    assert len(links) == len(KINDS) * len(PRESETS) + 1  # every rendition + the contact sheet
    assert _fetch(links[0])[:8] == b"\x89PNG\r\n\x1a\n"
    # 5. The secret key (the one the CLI ran with) is nowhere: output, report, database, files
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET
    assert SECRET not in output and SECRET not in page
    dump = " ".join(str(r) for table in ("runs", "products", "assets", "errors", "renditions")
                    for r in rows(pg_url, f"select * from {table}"))
    assert SECRET not in dump
    for path in adforge_env.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json", ".log", ".txt", ".csv"}:
            assert SECRET not in path.read_text(encoding="utf-8", errors="ignore"), path
