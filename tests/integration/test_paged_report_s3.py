"""A long run's report on S3 (moto's server): every page of the report and of the contact
sheet is uploaded beside the run's records, and the pages reach each other and the sheet's
pages through presigned links that open without credentials."""

from __future__ import annotations

import html
import re
import urllib.request
from pathlib import Path

import pytest

from adforge.stages import publish
from tests.integration.conftest import S3Env
from tests.sheet_inputs import SIZES, record_products, sheet_config, synthetic_jobs

pytestmark = pytest.mark.slow


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(html.unescape(url), timeout=10) as response:
        return response.read()


def link_to(page: str, name: str) -> str:
    """The presigned link a page gives to the object `name` (a report page, a sheet page)."""
    [href] = set(re.findall(rf'href="(https?://[^"]*/{re.escape(name)}\?[^"]+)"', page))
    assert "X-Amz-Signature=" in href
    return href


def test_every_page_is_uploaded_and_linked_by_presigned_links(tmp_path: Path,
                                                              s3_env: S3Env) -> None:
    cfg = sheet_config(tmp_path, page_size=2, store_spec=s3_env.store, s3=s3_env.settings())
    jobs = synthetic_jobs(cfg, 5)
    record_products(cfg, jobs)
    sheets = publish.write_contact_sheets(cfg, jobs, list(SIZES))
    publish.write_report(cfg)

    first_url = publish.upload_report(cfg)

    assert first_url is not None and "/report.html?" in first_url
    prefix = f"campaigns/runs/{cfg.run_id}/"
    assert {key.removeprefix(prefix) for key in s3_env.keys(prefix)} >= {
        "report.html", "report-002.html", "report-003.html", "contact_sheet-001.png",
        "contact_sheet-002.png", "contact_sheet-003.png"}
    first = fetch(first_url).decode()
    assert "SKU-00001" in first and "SKU-00002" not in first
    assert fetch(link_to(first, "contact_sheet-003.png")) == sheets[2].read_bytes()
    second = fetch(link_to(first, "report-002.html")).decode()
    assert "SKU-00002" in second and "SKU-00003" in second and "SKU-00001" not in second
    assert "SKU-00004" in fetch(link_to(second, "report-003.html")).decode()
    assert fetch(link_to(second, "report.html")).decode() == first
