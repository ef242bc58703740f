"""Publishing: finished files into the output folder, rows into the tracking database."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import task

from adforge import publishing
from adforge.db import repository as repo
from adforge.imageio import encode_png
from adforge.imaging.contact_sheet import SheetCell, contact_sheet
from adforge.imaging.renditions import passes
from adforge.publishing import (
    is_s3,
    presigner,
    rendition_uri,
    upload_contact_sheet,
    upload_pending,
)
from adforge.report import render_html
from adforge.stagecache import Manifest, RunConfig, database, load_blob, store
from adforge.storage import write_file_atomic
from tasks.common import TASK_OPTIONS, ProductJob, blob_image

LAYERS = (("cutout", "cutout", "cutout.png"), ("background", "background", "background.png"),
          ("composite", "shadow", "shadow.png"), ("composite", "product", "product.png"),
          ("composite", "composite", "composite.png"), ("text", "master", "master.png"))


def run_folder(cfg: RunConfig) -> Path:
    return cfg.out_dir / cfg.run_id


@task(name="publish", task_run_name="publish-{job.row.sku}", **TASK_OPTIONS)
def publish_product(cfg: RunConfig, job: ProductJob) -> dict[str, str]:
    """Write `<out>/<run>/<sku>/<platform>.png` plus the layers; record rows."""
    folder = run_folder(cfg) / job.sku
    db = database(cfg.db_url)
    for stage, blob, filename in LAYERS:
        manifest = getattr(job, stage)
        write_file_atomic(folder / filename, load_blob(cfg, manifest.blobs[blob]))
    if job.layout:
        write_file_atomic(folder / "layout.json",
                          json.dumps(job.layout.meta["layout"], indent=2).encode())
    uris = {}
    for platform, manifest in job.renditions.items():
        path = (folder / f"{platform}.png").resolve()
        write_file_atomic(path, load_blob(cfg, manifest.blobs["image"]))
        uris[platform] = str(path)
    assets = store(cfg.store)
    upload_pending(assets)  # S3: no row points at an object before it is uploaded
    for platform, manifest in job.renditions.items():
        uri = rendition_uri(assets, Path(uris[platform]), manifest.blobs["image"])
        repo.record_rendition(db, run_id=cfg.run_id, sku=job.sku, platform=platform,
                              width=manifest.meta["width"], height=manifest.meta["height"],
                              uri=uri, asset_key=manifest.key)
        checks = {metric: (value, passes(metric, value))
                  for metric, value in manifest.meta["quality"].items()}
        repo.record_qualities(db, run_id=cfg.run_id, sku=job.sku, subject=platform,
                              checks=checks)
    _record_master_quality(cfg, job)
    save_job(cfg, job)
    repo.set_product_status(db, cfg.run_id, job.sku, "done")
    return uris


def save_config(cfg: RunConfig) -> None:
    """Keep the run's configuration, so its masters can be re-composed later."""
    store(cfg.store).put_bytes(f"runs/{cfg.run_id}/config.json",
                               cfg.model_dump_json().encode(), "application/json")


def save_job(cfg: RunConfig, job: ProductJob) -> None:
    """Keep a product's stage manifests: the references the renditions flow starts from."""
    store(cfg.store).put_bytes(f"runs/{cfg.run_id}/jobs/{job.sku}.json",
                               job.model_dump_json().encode(), "application/json")


def load_run(store_spec: str, run_id: str, skus: list[str]) -> tuple[RunConfig, list[ProductJob]]:
    assets = store(store_spec)
    cfg = RunConfig.model_validate_json(assets.get_bytes(f"runs/{run_id}/config.json"))
    jobs = [ProductJob.model_validate_json(assets.get_bytes(f"runs/{run_id}/jobs/{sku}.json"))
            for sku in skus]
    return cfg, jobs


def _record_master_quality(cfg: RunConfig, job: ProductJob) -> None:
    db = database(cfg.db_url)
    assert job.composite and job.cutout
    delta_e = float(job.composite.meta["delta_e"])
    confidence = float(job.cutout.meta["confidence"])
    repo.record_qualities(db, run_id=cfg.run_id, sku=job.sku, subject="master", checks={
        "delta_e": (delta_e, delta_e <= cfg.composite.max_delta_e),
        "segment_confidence": (confidence, confidence >= cfg.segment.min_confidence)})
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
    folder = run_folder(cfg)
    path = folder / "report.html"
    write_file_atomic(path, render_html(summary, folder).encode())
    return path


def upload_report(cfg: RunConfig) -> str | None:
    """S3 store: `runs/<run>/report.html` with presigned image links; its presigned link.

    None for a local store. Raises TransientError while S3 is unreachable."""
    assets = store(cfg.store)
    if not is_s3(assets):
        return None
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    folder = run_folder(cfg)
    sheet = upload_contact_sheet(assets, cfg.run_id, folder / "contact_sheet.png")
    page = render_html(summary, folder, link=presigner(assets), sheet_src=sheet)
    return publishing.upload_report(assets, cfg.run_id, page.encode())
