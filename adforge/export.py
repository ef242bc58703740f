"""A run's delivery manifest: one row per published rendition, the file an ad manager
imports to build its ads and A/B sets (Prefect-free; `adforge export RUN` writes it).

    manifest(db, run_id, assets)   {"run_id", "status", "rows": [...]}
    encode(manifest, "csv"|"json") the file's bytes (UTF-8)
    export_format(text)            "csv" or "json", else InputError

A row: sku, variant (the variant id; empty for a product with one variant), platform,
width, height, url, headline, subline, cta, seed, style, format, bytes, sha256,
backends. The file's facts are exactly those the results webhook sends
(`delivery.rendition_entry`: the file read back, measured and hashed; the URL presigned
on an S3 store, `file://` on a local one), so the two never disagree. The copy, seed and
style are the product's brief row as the run kept it beside its records
(`runs/<run>/jobs/<key>.json`), so the manifest says what the image says.

A product with no published rendition (failed, every canvas waiting for review) has no
row, nor has a drafted variant the final pass left out (status `draft`, `not-selected`);
a product with some canvases published and others held lists the published ones.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from adforge.brief import BriefRow
from adforge.db import Database
from adforge.db import repository as repo
from adforge.db.models import VARIANT_ONLY_STATUSES
from adforge.delivery import rendition_entry
from adforge.errors import AdForgeError, InputError, TransientError
from adforge.publishing import presigner
from adforge.stages import publish
from adforge.storage import AssetNotFoundError, AssetStore
from adforge.variants import split_key

ExportFormat = Literal["csv", "json"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "json")
COLUMNS = ("sku", "variant", "platform", "width", "height", "url", "headline", "subline",
           "cta", "seed", "style", "format", "bytes", "sha256", "backends")


def manifest(db: Database, run_id: str, assets: AssetStore) -> dict[str, Any]:
    """The run's id and status, and a row per published rendition, products in the
    order the run recorded them. InputError for a run the database does not know, or
    whose records are not in `assets`."""
    summary = _summary(db, run_id)
    published = [product for product in summary["products"]
                 if product["renditions"] and product["status"] not in VARIANT_ONLY_STATUSES]
    rows_of = _brief_rows(assets, run_id, [product["sku"] for product in published])
    link = presigner(assets)
    rows = [manifest_row(product["sku"], rows_of[product["sku"]],
                         rendition_entry(rendition, assets, link))
            for product in published for rendition in product["renditions"]]
    return {"run_id": run_id, "status": summary["status"], "rows": rows}


def manifest_row(key: str, row: BriefRow, entry: dict[str, Any]) -> dict[str, Any]:
    """One rendition's row: who it is (from the record key), its file (the webhook's
    entry for it), and what it says (the brief row)."""
    sku, variant = split_key(key)
    return {"sku": sku, "variant": variant, "platform": entry["platform"],
            "width": entry["width"], "height": entry["height"], "url": entry["url"],
            "headline": row.copy.headline, "subline": row.copy.subline, "cta": row.copy.cta,
            "seed": row.seed, "style": row.style, "format": entry["format"],
            "bytes": entry["bytes"], "sha256": entry["sha256"], "backends": entry["backends"]}


def encode(document: dict[str, Any], export_format: ExportFormat) -> bytes:
    """The manifest as a file: JSON (the whole document, indented) or CSV (a header,
    then a line per row; `backends` as a JSON object in its cell, no style empty)."""
    if export_format == "json":
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    return _csv(document["rows"]).encode()


def export_format(text: str) -> ExportFormat:
    """`csv` or `json` (any case), checked before any work; else InputError."""
    for known in FORMATS:
        if text.strip().lower() == known:
            return known
    raise InputError(f"export format '{text}' is not one of {', '.join(FORMATS)}",
                     field="format")


def _csv(rows: list[dict[str, Any]]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        backends = json.dumps(row["backends"], ensure_ascii=False, separators=(",", ":"))
        writer.writerow(row | {"backends": backends})
    return text.getvalue()


def _summary(db: Database, run_id: str) -> dict[str, Any]:
    """The run's rows; a run the database does not know is bad input (a database that
    does not answer is not)."""
    try:
        return repo.run_summary(db, run_id)
    except TransientError:
        raise
    except AdForgeError as error:
        raise InputError(f"{error}; check the id (`adforge report` shows the latest run)",
                         item=run_id) from error


def _brief_rows(assets: AssetStore, run_id: str, keys: list[str]) -> dict[str, BriefRow]:
    """Each product's brief row, as the run's publish stage kept it in the store."""
    if not keys:
        return {}
    try:
        _, jobs = publish.load_run(assets, run_id, keys)
    except (FileNotFoundError, AssetNotFoundError) as error:
        raise InputError(f"the records of run {run_id} are not in the asset store "
                         f"{assets.base_uri}: read it from the store the run wrote to "
                         f"({error})", item=run_id, field="store") from error
    return {key: job.row for key, job in zip(keys, jobs, strict=True)}
