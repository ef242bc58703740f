"""`adforge export` of a real campaign run on S3 (moto server, Prefect harness): every
published rendition is a row whose URL is a presigned link to the S3 endpoint that
downloads exactly the bytes of the stored object the tracking database names."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from adforge.demo import DEMO_COPY
from adforge_app.cli import app
from tests.integration.campaign import rows, sku, write_campaign
from tests.integration.conftest import S3Env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

KINDS = ("bottle", "jar")
PLATFORMS = ["instagram_post", "blog_thumbnail"]


def _stored_object(env: S3Env, uri: str) -> bytes:
    """The bytes of `s3://bucket/key`, fetched with the test's own client."""
    parts = urlsplit(uri)
    answer = env.server.client().get_object(Bucket=parts.netloc, Key=parts.path.lstrip("/"))
    return answer["Body"].read()


def test_export_of_an_s3_run_lists_presigned_urls_that_download_the_objects(
        adforge_env: Path, s3_env: S3Env) -> None:
    from flows.brand_content import brand_content

    brief, brand = write_campaign(adforge_env / "in", KINDS)
    result = brand_content(brief=str(brief), brand=str(brand), store=s3_env.store,
                           platforms=PLATFORMS)
    run_id = result["run_id"]
    target = adforge_env / "manifest.json"

    exported = CliRunner().invoke(app, ["export", run_id, "--format", "json", "-o",
                                        str(target), "--store", s3_env.store])

    assert exported.exit_code == 0, exported.output
    document = json.loads(target.read_text(encoding="utf-8"))
    recorded = {(s, platform): uri for s, platform, uri in rows(
        f"sqlite:///{adforge_env / 'state' / 'adforge.db'}",
        f"select sku, platform, uri from renditions where run_id = '{run_id}'")}
    listed = {(row["sku"], row["platform"]): row for row in document["rows"]}
    assert set(listed) == set(recorded) == {(sku(k), p) for k in KINDS for p in PLATFORMS}
    endpoint = urlsplit(s3_env.server.url)
    for key, row in listed.items():
        link = urlsplit(row["url"])
        assert (link.scheme, link.netloc) == (endpoint.scheme, endpoint.netloc)
        assert "X-Amz-Signature=" in link.query  # presigned, not the bare object
        with urllib.request.urlopen(row["url"], timeout=10) as opened:
            data = opened.read()
        assert data == _stored_object(s3_env, recorded[key])
        assert row["bytes"] == len(data) > 0
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
    by_sku = {sku(kind): DEMO_COPY[kind] for kind in KINDS}  # the copy, read from S3 too
    assert all(row["headline"] == by_sku[row["sku"]]["headline"] for row in document["rows"])
