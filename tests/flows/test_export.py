"""`adforge export` after a real classic campaign run (Prefect harness): the manifest
lists exactly the published renditions, with the brief's copy and seed, sizes that are
the files' own and file:// URLs that open on the listed bytes; a canvas held for review
is not in it until `adforge approve` publishes it. (On S3: tests/integration.)"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from adforge.brief import load_brief
from adforge.export import COLUMNS
from adforge_app.cli import app
from tests.review_inputs import CLEAN_SKU, CLUTTERED_SKU, write_review_campaign

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PLATFORMS = ["instagram_post", "blog_thumbnail"]


def _query(env: Path, query: str, run_id: str) -> list[tuple]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query), {"r": run_id})]
    finally:
        engine.dispose()


def _recorded(env: Path, run_id: str) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(sku, platform) -> (width, height, uri) of every rendition row of the run."""
    found = _query(env, "select sku, platform, width, height, uri from renditions "
                        "where run_id = :r", run_id)
    return {(sku, platform): (w, h, uri) for sku, platform, w, h, uri in found}


def _export_json(env: Path, run_id: str) -> dict[str, Any]:
    target = env / "manifest.json"
    result = CliRunner().invoke(app, ["export", run_id, "--format", "json", "-o", str(target)])
    assert result.exit_code == 0, result.output
    return json.loads(target.read_text(encoding="utf-8"))


def _assert_row_opens_on_its_file(row: dict[str, Any], recorded: tuple[int, int, str]) -> None:
    width, height, uri = recorded
    assert row["url"] == Path(uri).resolve().as_uri()
    with urllib.request.urlopen(row["url"], timeout=10) as opened:
        data = opened.read()
    assert row["bytes"] == len(data) > 0
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (row["width"], row["height"]) == (width, height)
    assert row["format"] == Path(uri).suffix.lstrip(".").lower()
    assert row["backends"]["text"]["backend"] == "typeset"


def test_export_lists_exactly_the_published_renditions(adforge_env: Path) -> None:
    from flows.brand_content import brand_content

    brief, brand = write_review_campaign(adforge_env / "in")
    result = brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS)
    run_id = result["run_id"]
    briefed = {row.sku: row for row in load_brief(brief, check_images=False).rows}

    # 1. JSON to a file: the clean product's renditions only (the other waits for review)
    document = _export_json(adforge_env, run_id)
    recorded = _recorded(adforge_env, run_id)
    [(status,)] = _query(adforge_env, "select status from runs where id = :r", run_id)
    assert (document["run_id"], document["status"]) == (run_id, status)
    listed = {(row["sku"], row["platform"]): row for row in document["rows"]}
    assert set(listed) == set(recorded) == {(CLEAN_SKU, p) for p in PLATFORMS}
    assert len(document["rows"]) == len(listed)
    for key, row in listed.items():
        assert list(row) == list(COLUMNS)
        expected = briefed[row["sku"]]
        assert (row["variant"], row["headline"], row["subline"], row["cta"], row["seed"],
                row["style"]) == ("", expected.copy.headline, expected.copy.subline,
                                  expected.copy.cta, expected.seed, expected.style)
        _assert_row_opens_on_its_file(row, recorded[key])

    # 2. CSV to stdout: the same rows, a header first, backends as JSON text
    shown = CliRunner().invoke(app, ["export", run_id, "--format", "csv"])
    assert shown.exit_code == 0, shown.output
    lines = list(csv.DictReader(io.StringIO(shown.stdout_bytes.decode(), newline="")))
    assert [tuple(line) for line in lines] == [tuple(COLUMNS)] * len(lines)
    assert [_from_csv(line) for line in lines] == document["rows"]

    # 3. Approving a held canvas publishes it: it joins the manifest, with its own copy
    approved = CliRunner().invoke(app, ["approve", run_id, CLUTTERED_SKU, "--platform",
                                        "instagram_post", "--by", "tester"])
    assert approved.exit_code == 0, approved.output
    after = {(row["sku"], row["platform"]): row
             for row in _export_json(adforge_env, run_id)["rows"]}
    assert set(after) == set(listed) | {(CLUTTERED_SKU, "instagram_post")}
    joined = after[(CLUTTERED_SKU, "instagram_post")]
    assert (joined["headline"], joined["seed"]) == (briefed[CLUTTERED_SKU].copy.headline,
                                                    briefed[CLUTTERED_SKU].seed)
    _assert_row_opens_on_its_file(joined, _recorded(adforge_env, run_id)[
        (CLUTTERED_SKU, "instagram_post")])


def _from_csv(line: dict[str, str]) -> dict[str, Any]:
    """A CSV line with the JSON manifest's types: numbers, a null style, backends."""
    numbers = {name: int(line[name]) for name in ("width", "height", "seed", "bytes")}
    return line | numbers | {"style": line["style"] or None,
                             "backends": json.loads(line["backends"])}
