"""Publish: finished files into the output folder, rows into the tracking database, and
the run's contact sheet and report.

    <out>/<run>/<sku>/<platform>.png   every rendition (plus the layers and layout.json)
    <out>/<run>/contact_sheet.png      every product x platform, from the stored thumbnails
    <out>/<run>/report.html            what the tracking database holds for the run

With a remote (S3) store the database points at the stored objects and the report is
uploaded beside the run's records with presigned links. The run's config and each
product's manifests are kept in the store, so the renditions flow can start from them.
"""

from __future__ import annotations

import json
from pathlib import Path

from adforge.db import repository as repo
from adforge.imageio import encode_png
from adforge.imaging.contact_sheet import SheetCell, contact_sheet
from adforge.imaging.renditions import passes
from adforge.publishing import presigner, rendition_uri, upload_contact_sheet, upload_pending
from adforge.report import render_html
from adforge.stagecache import Manifest, RunConfig, database, load_blob, store
from adforge.stages.job import Outcome, ProductJob, blob_image, each
from adforge.storage import AssetStore, write_file_atomic

LAYERS = (("cutout", "cutout", "cutout.png"), ("background", "background", "background.png"),
          ("composite", "shadow", "shadow.png"), ("composite", "product", "product.png"),
          ("composite", "composite", "composite.png"), ("text", "master", "master.png"))


def run_folder(cfg: RunConfig) -> Path:
    return cfg.out_dir / cfg.run_id


def publish_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Publish each product; its outcome is the job itself, or what failed it."""
    return each(publish_product, cfg, jobs)


def publish_product(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Write `<out>/<run>/<sku>/<platform>.png` plus the layers; record rows."""
    # 1. The layers and the layout, as files
    folder = run_folder(cfg) / job.sku
    for stage, blob, filename in LAYERS:
        manifest = getattr(job, stage)
        write_file_atomic(folder / filename, load_blob(cfg, manifest.blobs[blob]))
    if job.layout:
        write_file_atomic(folder / "layout.json",
                          json.dumps(job.layout.meta["layout"], indent=2).encode())
    # 2. Every rendition, as a file
    files = delivered_files(cfg, job)
    for platform, manifest in job.renditions.items():
        write_file_atomic(files[platform], load_blob(cfg, manifest.blobs["image"]))
    # 3. S3: no row points at an object before it is uploaded
    assets = store(cfg)
    upload_pending(assets)
    # 4. Rows: renditions and their quality, the master's, then the product is done
    for platform, manifest in job.renditions.items():
        _record_rendition(cfg, job.sku, platform, manifest,
                          rendition_uri(assets, files[platform], manifest.blobs["image"]))
    _record_master_quality(cfg, job)
    save_job(cfg, job)
    repo.set_product_status(database(cfg.db_url), cfg.run_id, job.sku, "done")
    return job


def delivered_files(cfg: RunConfig, job: ProductJob) -> dict[str, Path]:
    """Where each of the product's renditions is delivered: platform -> file."""
    folder = run_folder(cfg) / job.sku
    return {platform: (folder / f"{platform}.png").resolve() for platform in job.renditions}


def _record_rendition(cfg: RunConfig, sku: str, platform: str, manifest: Manifest,
                      uri: str) -> None:
    db = database(cfg.db_url)
    repo.record_rendition(db, run_id=cfg.run_id, sku=sku, platform=platform,
                          width=manifest.meta["width"], height=manifest.meta["height"],
                          uri=uri, asset_key=manifest.key)
    checks = {metric: (value, passes(metric, value))
              for metric, value in manifest.meta["quality"].items()}
    repo.record_qualities(db, run_id=cfg.run_id, sku=sku, subject=platform, checks=checks)


def _record_master_quality(cfg: RunConfig, job: ProductJob) -> None:
    delta_e = float(job.need("composite").meta["delta_e"])
    confidence = float(job.need("cutout").meta["confidence"])
    repo.record_qualities(database(cfg.db_url), run_id=cfg.run_id, sku=job.sku,
                          subject="master", checks={
                              "delta_e": (delta_e, delta_e <= cfg.composite.max_delta_e),
                              "segment_confidence": (
                                  confidence, confidence >= cfg.segment.min_confidence)})
    for number, attempt in enumerate(job.text.meta.get("attempts", []) if job.text else [], 1):
        _record_text_attempt(cfg, job.sku, number, attempt)


def _record_text_attempt(cfg: RunConfig, sku: str, number: int, attempt: dict) -> None:
    """One neural text edit (or the typesetting fallback): its seconds and verification
    metrics as quality rows of subject `text-<n>-<backend>`, marked with its verdict."""
    passed = bool(attempt["passed"])
    checks = {"seconds": (attempt["seconds"], passed)}
    checks |= {metric: (value, passed) for metric, value in attempt["metrics"].items()}
    repo.record_qualities(database(cfg.db_url), run_id=cfg.run_id, sku=sku,
                          subject=f"text-{number}-{attempt['backend']}"[:50], checks=checks)


def save_config(cfg: RunConfig) -> None:
    """Keep the run's configuration, so its masters can be re-composed later."""
    store(cfg).put_bytes(f"runs/{cfg.run_id}/config.json", cfg.model_dump_json().encode(),
                         "application/json")


def save_job(cfg: RunConfig, job: ProductJob) -> None:
    """Keep a product's stage manifests: the references the renditions flow starts from."""
    store(cfg).put_bytes(f"runs/{cfg.run_id}/jobs/{job.sku}.json",
                         job.model_dump_json().encode(), "application/json")


def load_run(assets: AssetStore, run_id: str,
             skus: list[str]) -> tuple[RunConfig, list[ProductJob]]:
    """A finished run's config and the manifests of its products `skus`."""
    cfg = RunConfig.model_validate_json(assets.get_bytes(f"runs/{run_id}/config.json"))
    jobs = [ProductJob.model_validate_json(assets.get_bytes(f"runs/{run_id}/jobs/{sku}.json"))
            for sku in skus]
    return cfg, jobs


def write_contact_sheet(cfg: RunConfig, jobs: list[ProductJob], platforms: list[str]) -> Path:
    """`<out>/<run>/contact_sheet.png`: every product x platform, labelled, from the
    thumbnails the renditions stage stored."""
    grid = [(job.sku, {platform: _sheet_cell(cfg, manifest)
                       for platform, manifest in job.renditions.items()}) for job in jobs]
    path = run_folder(cfg) / "contact_sheet.png"
    write_file_atomic(path, encode_png(contact_sheet(grid, platforms), level=3))
    return path


def _sheet_cell(cfg: RunConfig, rendition: Manifest) -> SheetCell:
    return SheetCell(blob_image(cfg, rendition, "thumb"), rendition.meta["width"],
                     rendition.meta["height"])


def write_report(cfg: RunConfig) -> Path:
    """`<out>/<run>/report.html`, from what the tracking database holds for the run."""
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    path = run_folder(cfg) / "report.html"
    write_file_atomic(path, render_html(summary, run_folder(cfg)).encode())
    return path


def upload_report(cfg: RunConfig) -> str | None:
    """A remote store: `runs/<run>/report.html` with presigned image links, uploaded
    beside the run's records; returns its presigned link. None for a local store.
    Raises TransientError while S3 is unreachable."""
    assets = store(cfg)
    if not assets.is_remote:
        return None
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    folder = run_folder(cfg)
    sheet = upload_contact_sheet(assets, cfg.run_id, folder / "contact_sheet.png")
    page = render_html(summary, folder, link=presigner(assets), sheet_src=sheet)
    key = f"runs/{cfg.run_id}/report.html"
    assets.put_bytes(key, page.encode(), "text/html; charset=utf-8")
    assets.flush_pending()
    return assets.presign(key)
