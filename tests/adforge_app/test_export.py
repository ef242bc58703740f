"""`adforge export` without a Prefect server: what it refuses (exit 2, one line), a run
with nothing published, and how a variant's row reads in CSV. The manifest of real runs:
tests/flows/test_export.py (local store), tests/integration/test_export_s3.py (S3)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adforge.brief import BriefRow
from adforge.db import open_database
from adforge.db import repository as repo
from adforge.export import COLUMNS, encode, manifest_row
from adforge.specs import AdCopy
from adforge_app.cli import app

runner = CliRunner()
BACKENDS = {"background": {"backend": "procedural"}, "text": {"backend": "typeset"}}


@pytest.fixture()
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A tracking database with run `r1`: product P-1 failed, P-2 published one
    rendition whose records are not in this home's store."""
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "state"))
    url = f"sqlite:///{tmp_path / 'adforge.db'}"
    db = open_database(url)
    repo.start_run(db, run_id="r1", brief="b.csv", brief_sha256="x", brand="acme",
                   profile="classic")
    for sku, status in (("P-1", "failed"), ("P-2", "done")):
        repo.upsert_product(db, run_id="r1", sku=sku, name="", source_uri="x.png")
        repo.set_product_status(db, "r1", sku, status)  # type: ignore[arg-type]
    repo.record_rendition(db, run_id="r1", sku="P-2", platform="instagram_post", width=1080,
                          height=1080, uri=str(tmp_path / "P-2.jpg"), asset_key="k",
                          backends=BACKENDS)
    repo.finish_run(db, "r1", "partial", n_products=2, n_failed=1)
    return url


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def test_an_unknown_run_is_bad_input_in_one_line(db_url: str) -> None:
    result = runner.invoke(app, ["export", "no-such-run", "--db", db_url])

    assert result.exit_code == 2, result.output
    [line] = _error_lines(result.output)
    assert "no-such-run is not in the tracking database" in line
    assert "Traceback" not in result.output


def test_a_format_other_than_csv_or_json_is_refused_before_any_work(db_url: str) -> None:
    result = runner.invoke(app, ["export", "r1", "--format", "xlsx", "--db", db_url])

    assert result.exit_code == 2, result.output
    [line] = _error_lines(result.output)
    assert "'xlsx' is not one of csv, json" in line


def test_an_output_in_a_missing_folder_is_refused_and_nothing_written(
        db_url: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "manifest.csv"
    result = runner.invoke(app, ["export", "r1", "--db", db_url, "-o", str(target)])

    assert result.exit_code == 2, result.output
    [line] = _error_lines(result.output)
    assert f"folder {target.parent} does not exist" in line
    assert not target.parent.exists()


def test_a_store_without_the_runs_records_is_named(db_url: str, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    result = runner.invoke(app, ["export", "r1", "--db", db_url, "--store", str(other)])

    assert result.exit_code == 2, result.output
    [line] = _error_lines(result.output)
    assert "the records of run r1 are not in the asset store" in line
    assert other.resolve().as_uri() in line


def test_a_run_with_nothing_published_exports_a_header_and_no_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "state"))
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    db = open_database(url)
    repo.start_run(db, run_id="r0", brief="b.csv", brief_sha256="y", brand="acme",
                   profile="classic")
    repo.upsert_product(db, run_id="r0", sku="P-9", name="", source_uri="x.png")
    repo.set_product_status(db, "r0", "P-9", "failed")
    target = tmp_path / "out" / "manifest.json"
    target.parent.mkdir()

    as_csv = runner.invoke(app, ["export", "r0", "--db", url])
    as_json = runner.invoke(app, ["export", "r0", "-f", "JSON", "--db", url, "-o", str(target)])

    assert as_csv.exit_code == 0 and as_csv.stdout_bytes == (",".join(COLUMNS) + "\r\n").encode()
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(target.read_text(encoding="utf-8")) == {
        "run_id": "r0", "status": "running", "rows": []}
    assert "0 renditions" in as_json.output


def test_a_variants_row_names_sku_and_variant_and_survives_csv_quoting() -> None:
    copy = AdCopy(headline='Cold brew, "slow"', subline="Line one\nline two", cta="Shop")
    row = BriefRow(row=2, sku="MUG-1", image="mug.png", copy=copy, seed=7, style="ocean")
    entry = {"platform": "story", "width": 1080, "height": 1920, "url": "file:///x.webp",
             "format": "webp", "bytes": 12, "sha256": "ab" * 32, "backends": BACKENDS}

    made = manifest_row("MUG-1/B-3f2c1a", row, entry)
    [line] = csv.DictReader(io.StringIO(encode({"rows": [made]}, "csv").decode(), newline=""))

    assert (made["sku"], made["variant"]) == ("MUG-1", "B-3f2c1a")
    assert list(made) == list(COLUMNS)
    assert line["headline"] == 'Cold brew, "slow"' and line["subline"] == "Line one\nline two"
    assert (line["sku"], line["variant"], line["seed"], line["style"]) == (
        "MUG-1", "B-3f2c1a", "7", "ocean")
    assert json.loads(line["backends"]) == BACKENDS
