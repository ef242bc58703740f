"""Publish: finished files into the output folder, rows into the tracking database, and
the run's contact sheet and report.

    <out>/<run>/<sku>/<platform>.png           every canvas's finished ad
    <out>/<run>/<sku>/<platform>.layout.json   where its copy went, and who decided
    <out>/<run>/<sku>/cutout.png               the product's cutout
    <out>/<run>/contact_sheet.png              every product x platform (stored thumbnails)
    <out>/<run>/report.html                    what the tracking database holds for the run

The canvases' layers (background, shadow, product, composite) stay in the asset store,
where the renditions flow re-composes from them. With a remote (S3) store the database
points at the stored objects and the report is uploaded beside the run's records with
presigned links. The run's config and each product's manifests are kept in the store.
"""

from __future__ import annotations

import json
from pathlib import Path

from adforge.db import repository as repo
from adforge.imageio import encode_png
from adforge.imaging.contact_sheet import SheetCell, contact_sheet
from adforge.imaging.renditions import passes
from adforge.publishing import presigner, rendition_uri, upload_contact_sheet, upload_pending
from adforge.report import fallback_mark, render_html
from adforge.stagecache import Manifest, RunConfig, database, load_blob, store
from adforge.stages.job import CanvasJob, Outcome, ProductJob, blob_image, each
from adforge.storage import AssetStore, write_file_atomic


def run_folder(cfg: RunConfig) -> Path:
    return cfg.out_dir / cfg.run_id


def publish_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Publish each product; its outcome is the job itself, or what failed it."""
    return each(publish_product, cfg, jobs)


def publish_product(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Write the product's ads, layouts and cutout; record its rows."""
    # 1. The cutout, every canvas's ad and layout, as files
    folder = run_folder(cfg) / job.sku
    write_file_atomic(folder / "cutout.png", load_blob(cfg, job.need("cutout").blobs["cutout"]))
    files = delivered_files(cfg, job)
    for platform, canvas in job.canvases.items():
        write_file_atomic(files[platform], load_blob(cfg, _ad(job, canvas).blobs["image"]))
        layout = canvas.need("layout", job.sku).meta["layout"]
        write_file_atomic(folder / f"{platform}.layout.json",
                          json.dumps(layout, indent=2, ensure_ascii=False).encode())
    # 2. S3: no row points at an object before it is uploaded
    assets = store(cfg)
    upload_pending(assets)
    # 3. Rows: each canvas's rendition and quality, the cutout's, then the product is done
    for platform, canvas in job.canvases.items():
        _record_canvas(cfg, job, canvas,
                       rendition_uri(assets, files[platform], _ad(job, canvas).blobs["image"]))
    _record_cutout_quality(cfg, job)
    save_job(cfg, job)
    repo.set_product_status(database(cfg.db_url), cfg.run_id, job.sku, "done")
    return job


def delivered_files(cfg: RunConfig, job: ProductJob) -> dict[str, Path]:
    """Where each of the product's ads is delivered: platform -> file."""
    folder = run_folder(cfg) / job.sku
    return {platform: (folder / f"{platform}.png").resolve()
            for platform in job.all_canvases()}


def _ad(job: ProductJob, canvas: CanvasJob) -> Manifest:
    return canvas.need("text", job.sku)


def _record_canvas(cfg: RunConfig, job: ProductJob, canvas: CanvasJob, uri: str) -> None:
    """The rendition row (what made it, where it is) and its quality rows: the checks of
    the finished ad, the product's ΔE, each text attempt."""
    db = database(cfg.db_url)
    ad = _ad(job, canvas)
    repo.record_rendition(db, run_id=cfg.run_id, sku=job.sku, platform=canvas.platform,
                          width=ad.meta["width"], height=ad.meta["height"], uri=uri,
                          asset_key=ad.key, backends=ad.meta["backends"])
    delta_e = float(canvas.need("composite", job.sku).meta["delta_e"])
    checks = {metric: (value, passes(metric, value))
              for metric, value in ad.meta["quality"].items()}
    checks["delta_e"] = (delta_e, delta_e <= cfg.composite.max_delta_e)
    repo.record_qualities(db, run_id=cfg.run_id, sku=job.sku, subject=canvas.platform,
                          checks=checks)
    for number, attempt in enumerate(ad.meta.get("attempts", []), 1):
        _record_text_attempt(cfg, job.sku, canvas.platform, number, attempt)


def _record_cutout_quality(cfg: RunConfig, job: ProductJob) -> None:
    confidence = float(job.need("cutout").meta["confidence"])
    repo.record_qualities(database(cfg.db_url), run_id=cfg.run_id, sku=job.sku,
                          subject="cutout", checks={"segment_confidence": (
                              confidence, confidence >= cfg.segment.min_confidence)})


def _record_text_attempt(cfg: RunConfig, sku: str, platform: str, number: int,
                         attempt: dict) -> None:
    """One neural text edit (or the typesetting fallback) on one canvas: its seconds and
    verification metrics as quality rows of subject `<platform>:text-<n>-<backend>`,
    marked with its verdict."""
    passed = bool(attempt["passed"])
    checks = {"seconds": (attempt["seconds"], passed)}
    checks |= {metric: (value, passed) for metric, value in attempt["metrics"].items()}
    subject = f"{platform}:text-{number}-{attempt['backend']}"[:50]
    repo.record_qualities(database(cfg.db_url), run_id=cfg.run_id, sku=sku, subject=subject,
                          checks=checks)


def save_config(cfg: RunConfig) -> None:
    """Keep the run's configuration, so canvases can be added to the run later."""
    store(cfg).put_bytes(f"runs/{cfg.run_id}/config.json", cfg.model_dump_json().encode(),
                         "application/json")


def save_job(cfg: RunConfig, job: ProductJob) -> None:
    """Keep a product's stage manifests, every canvas of it: the references the
    renditions flow starts from."""
    kept = job.model_copy(update={"canvases": job.all_canvases(), "finished": {}})
    store(cfg).put_bytes(f"runs/{cfg.run_id}/jobs/{job.sku}.json",
                         kept.model_dump_json().encode(), "application/json")


def load_run(assets: AssetStore, run_id: str,
             skus: list[str]) -> tuple[RunConfig, list[ProductJob]]:
    """A finished run's config and the manifests of its products `skus`."""
    cfg = RunConfig.model_validate_json(assets.get_bytes(f"runs/{run_id}/config.json"))
    jobs = [ProductJob.model_validate_json(assets.get_bytes(f"runs/{run_id}/jobs/{sku}.json"))
            for sku in skus]
    return cfg, jobs


def write_contact_sheet(cfg: RunConfig, jobs: list[ProductJob], platforms: list[str]) -> Path:
    """`<out>/<run>/contact_sheet.png`: every product x platform, labelled, from the
    thumbnails the text stage stored with each finished ad."""
    grid = [(job.sku, {platform: _sheet_cell(cfg, _ad(job, canvas))
                       for platform, canvas in job.canvases.items()}) for job in jobs]
    path = run_folder(cfg) / "contact_sheet.png"
    write_file_atomic(path, encode_png(contact_sheet(grid, platforms), level=3))
    return path


def _sheet_cell(cfg: RunConfig, ad: Manifest) -> SheetCell:
    """A canvas on the sheet: its thumbnail, size, and a mark when a part fell back."""
    return SheetCell(blob_image(cfg, ad, "thumb"), ad.meta["width"], ad.meta["height"],
                     fallback_mark(ad.meta["backends"]))


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
