"""Publish: finished files into the output folder, rows into the tracking database, and
the run's contact sheet and report.

    <out>/<run>/<sku>/<platform>.jpg           every delivered canvas's finished ad, in its
                                               platform's delivery format (.jpg, .webp or
                                               .png: adforge.formats)
    <out>/<run>/<sku>/<platform>.layout.json   where its copy went, and who decided
    <out>/<run>/<sku>/cutout.png               the product's cutout
    <out>/<run>/review/<sku>/<platform>.*      a canvas a quality gate held back: the ad,
                                               its layout, its gates (`.gates.json`)
    <out>/<run>/contact_sheet-001.png ...      every product x platform (stored thumbnails),
                                               `images.sheet_page_size` products a page
    <out>/<run>/review/review_sheet-001.png .. the canvases held for review, pages as above
    <out>/<run>/report.html, report-002.html.. what the tracking database holds for the run

Only a canvas that passed every quality gate (adforge.gates) is delivered; one that still
fails after its repairs waits in the review queue (`reviews` rows) until a person
approves it, which delivers it exactly as here (`deliver`), or rejects it.

The canvases' layers (background, shadow, product, composite) stay in the asset store,
where the renditions flow re-composes from them. With a remote (S3) store every delivered
ad is also uploaded under the delivery prefix `runs/<run>/delivery/<sku>/<platform>.jpg`
(a held one is not), the database points at the stored objects, and the report is
uploaded beside the run's records with presigned links. The run's config and each
product's manifests are kept in the store.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from adforge.db import repository as repo
from adforge.db import reviews
from adforge.db.metrics import costed_summary
from adforge.gates import GateResult, evaluate
from adforge.imageio import encode_png
from adforge.imaging.contact_sheet import SheetCell, contact_sheet, page_name, pages_in
from adforge.publishing import (
    presigner,
    rendition_uri,
    run_key,
    run_link,
    upload_pages,
    upload_pending,
)
from adforge.report import fallback_mark, render_html, report_page_name, report_pages
from adforge.stagecache import Manifest, RunConfig, database, load_blob, store
from adforge.stages.gate import measures_of
from adforge.stages.job import CanvasJob, Outcome, ProductJob, blob_image, each
from adforge.storage import AssetStore, content_type_of, write_file_atomic

REVIEW_MARK = "review"  # the contact sheet's tag on a canvas held for review
SHEET, REVIEW_SHEET = "contact_sheet", "review_sheet"  # the sheets' file names, less `-001.png`


def run_folder(cfg: RunConfig) -> Path:
    return cfg.out_dir / cfg.run_id


def review_folder(cfg: RunConfig, sku: str) -> Path:
    return run_folder(cfg) / "review" / sku


def delivery_key(run_id: str, sku: str, file_name: str) -> str:
    """Where a delivered ad goes in a remote store (the S3 delivery prefix)."""
    return f"runs/{run_id}/delivery/{sku}/{file_name}"


def ad_file_name(job: ProductJob, canvas: CanvasJob) -> str:
    """`<platform>.<ext>`: the extension of the delivery format the text stage chose."""
    return canvas.platform + PurePosixPath(_ad(job, canvas).blobs["image"]).suffix


def is_held(canvas: CanvasJob) -> bool:
    """Whether a quality gate holds the canvas back for a person's review."""
    return canvas.gate is not None and canvas.gate.held


def publish_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Publish each product; its outcome is the job itself, or what failed it."""
    return each(publish_product, cfg, jobs)


def publish_product(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Deliver the product's passing canvases, hold the others for review, record rows."""
    # 1. The held canvases' files and queue rows; the passing ones delivered
    held = [canvas for canvas in job.canvases.values() if is_held(canvas)]
    passed = [canvas for canvas in job.canvases.values() if not is_held(canvas)]
    if held and not passed and not job.finished:  # nothing delivered: the cutout waits too
        _write_cutout(cfg, job, review_folder(cfg, job.sku))
    for canvas in held:
        hold_for_review(cfg, job, canvas)
    deliver(cfg, job, passed)
    # 2. Every canvas's gates and attempts, the cutout's confidence; then the status
    for canvas in job.canvases.values():
        record_quality(cfg, job, canvas)
    _record_cutout_quality(cfg, job)
    save_job(cfg, job)
    db = database(cfg.db_url)
    repo.set_product_status(db, cfg.run_id, job.sku, "needs-review" if held else "done")
    if job.finished:  # canvases added to a finished product: one made earlier may wait
        reviews.settle_product(db, cfg.run_id, job.sku)
    return job


def deliver(cfg: RunConfig, job: ProductJob, canvases: list[CanvasJob]) -> None:
    """Deliver canvases: their files, their objects under a remote store's delivery
    prefix, then their rendition rows (no row points at an object before it is up).
    Raises TransientError while S3 is unreachable."""
    assets = store(cfg)
    if canvases:
        _write_cutout(cfg, job, run_folder(cfg) / job.sku)
    for canvas in canvases:
        name = ad_file_name(job, canvas)
        ad = load_blob(cfg, _ad(job, canvas).blobs["image"])
        _write_canvas_files(run_folder(cfg) / job.sku, name, canvas, ad)
        if assets.is_remote:
            assets.put_bytes(delivery_key(cfg.run_id, job.sku, name), ad,
                             content_type_of(name))
    upload_pending(assets)
    for canvas in canvases:
        local = (run_folder(cfg) / job.sku / ad_file_name(job, canvas)).resolve()
        _record_rendition(cfg, job, canvas,
                          rendition_uri(assets, local, _ad(job, canvas).blobs["image"]))


def hold_for_review(cfg: RunConfig, job: ProductJob, canvas: CanvasJob) -> None:
    """`review/<sku>/<platform>.*` and the queue's row: the ad is not delivered."""
    ad = _ad(job, canvas)
    folder = review_folder(cfg, job.sku)
    name = ad_file_name(job, canvas)
    _write_canvas_files(folder, name, canvas, load_blob(cfg, ad.blobs["image"]))
    record = canvas.gate.model_dump(mode="json") if canvas.gate else {}
    write_file_atomic(folder / f"{canvas.platform}.gates.json",
                      json.dumps(record, indent=2, ensure_ascii=False).encode())
    assets = store(cfg)
    picture = str((folder / name).resolve())
    if assets.is_remote:  # the stored ad, so that the uploaded report can show it
        picture = assets.uri(ad.blobs["image"])
    reviews.hold(database(cfg.db_url), run_id=cfg.run_id, sku=job.sku,
                 platform=canvas.platform, failing=canvas.gate.failing() if canvas.gate else [],
                 picture=picture, asset_key=ad.key)


def _write_cutout(cfg: RunConfig, job: ProductJob, folder: Path) -> None:
    write_file_atomic(folder / "cutout.png", load_blob(cfg, job.need("cutout").blobs["cutout"]))


def _write_canvas_files(folder: Path, name: str, canvas: CanvasJob, ad: bytes) -> None:
    write_file_atomic(folder / name, ad)
    layout = canvas.layout.meta["layout"] if canvas.layout else {}
    write_file_atomic(folder / f"{canvas.platform}.layout.json",
                      json.dumps(layout, indent=2, ensure_ascii=False).encode())


def delivered_files(cfg: RunConfig, job: ProductJob) -> dict[str, Path]:
    """Where each of the product's delivered ads is: platform -> file (the canvases a
    quality gate holds for review are not delivered)."""
    folder = run_folder(cfg) / job.sku
    return {platform: (folder / ad_file_name(job, canvas)).resolve()
            for platform, canvas in job.all_canvases().items() if not is_held(canvas)}


def _ad(job: ProductJob, canvas: CanvasJob) -> Manifest:
    return canvas.need("text", job.sku)


def _record_rendition(cfg: RunConfig, job: ProductJob, canvas: CanvasJob, uri: str) -> None:
    """The rendition row: what made it (a repair too), where it is."""
    ad = _ad(job, canvas)
    backends = dict(ad.meta["backends"])
    repair = canvas.gate.repair_part() if canvas.gate else None
    if repair is not None:
        backends["repair"] = repair
    repo.record_rendition(database(cfg.db_url), run_id=cfg.run_id, sku=job.sku,
                          platform=canvas.platform, width=ad.meta["width"],
                          height=ad.meta["height"], uri=uri, asset_key=ad.key,
                          backends=backends)


def gate_results(cfg: RunConfig, job: ProductJob, canvas: CanvasJob) -> list[GateResult]:
    """The gates' verdicts on the canvas as kept (judged now for a canvas made before
    the gate stage ran, as the renditions flow's earlier canvases may be)."""
    if canvas.gate is not None:
        return canvas.gate.chosen.results
    return evaluate(measures_of(job, canvas), cfg.quality, canvas.platform)


def record_quality(cfg: RunConfig, job: ProductJob, canvas: CanvasJob) -> None:
    """The canvas's quality rows: every measure of the kept rendering with its gate's
    verdict (subject `<platform>`), each attempt's gates when repairs were tried
    (`<platform>:attempt-<n>`), each text edit (`<platform>:text-<n>-<backend>`)."""
    db = database(cfg.db_url)
    verdicts = {result.gate: result.passed for result in gate_results(cfg, job, canvas)}
    measures = measures_of(job, canvas)
    measures.pop("segment_confidence")  # the product's, recorded once (subject `cutout`)
    repo.record_qualities(db, run_id=cfg.run_id, sku=job.sku, subject=canvas.platform,
                          checks={metric: (value, verdicts.get(metric, True))
                                  for metric, value in measures.items()})
    attempts = canvas.gate.attempts if canvas.gate else []
    for attempt in attempts if len(attempts) > 1 else []:
        repo.record_qualities(db, run_id=cfg.run_id, sku=job.sku,
                              subject=f"{canvas.platform}:attempt-{attempt.number}"[:50],
                              checks={r.gate: (r.value, r.passed) for r in attempt.results})
    for number, text_attempt in enumerate(_ad(job, canvas).meta.get("attempts", []), 1):
        _record_text_attempt(cfg, job.sku, canvas.platform, number, text_attempt)


def _record_cutout_quality(cfg: RunConfig, job: ProductJob) -> None:
    confidence = float(job.need("cutout").meta["confidence"])
    repo.record_qualities(database(cfg.db_url), run_id=cfg.run_id, sku=job.sku,
                          subject="cutout", checks={"segment_confidence": (
                              confidence, confidence >= cfg.quality.min_segment_confidence)})


def _record_text_attempt(cfg: RunConfig, sku: str, platform: str, number: int,
                         attempt: dict[str, Any]) -> None:
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


def load_run(assets: AssetStore, run_id: str, skus: list[str],
             db_url: str | None = None) -> tuple[RunConfig, list[ProductJob]]:
    """A finished run's config and the manifests of its products `skus`; `db_url`: the
    tracking database (a stored config leaves it out: it may hold a password)."""
    cfg = RunConfig.model_validate_json(assets.get_bytes(f"runs/{run_id}/config.json"))
    if db_url is not None:
        cfg = cfg.model_copy(update={"db_url": db_url})
    jobs = [ProductJob.model_validate_json(assets.get_bytes(f"runs/{run_id}/jobs/{sku}.json"))
            for sku in skus]
    return cfg, jobs


def write_contact_sheets(cfg: RunConfig, jobs: list[ProductJob],
                         platforms: list[str]) -> list[Path]:
    """`<out>/<run>/contact_sheet-001.png`, `-002.png`...: every product x platform,
    labelled, from the thumbnails the text stage stored with each finished ad, in pages of
    `cfg.images.sheet_page_size` products."""
    rows = [(job, list(job.canvases.values())) for job in jobs]
    return _write_sheet_pages(cfg, run_folder(cfg), SHEET, rows, platforms)


def write_review_sheets(cfg: RunConfig, jobs: list[ProductJob]) -> list[Path]:
    """`<out>/<run>/review/review_sheet-001.png`...: only the canvases held for review, in
    pages as the contact sheet's; no page when nothing waits."""
    rows = [(job, held) for job in jobs
            if (held := [canvas for canvas in job.canvases.values() if is_held(canvas)])]
    platforms = list(dict.fromkeys(canvas.platform for _, held in rows for canvas in held))
    return _write_sheet_pages(cfg, run_folder(cfg) / "review", REVIEW_SHEET, rows, platforms)


def _write_sheet_pages(cfg: RunConfig, folder: Path, stem: str,
                       rows: list[tuple[ProductJob, list[CanvasJob]]],
                       platforms: list[str]) -> list[Path]:
    """Each page drawn, encoded and written before the next one's thumbnails are read,
    so that memory holds one page whatever the brief's length; pages an earlier writing
    left beyond the last are removed."""
    size = cfg.images.sheet_page_size
    pages: list[Path] = []
    for start in range(0, len(rows), size):
        path = folder / page_name(stem, len(pages) + 1)
        picture = _sheet_page(cfg, rows[start:start + size], platforms)
        write_file_atomic(path, encode_png(picture, level=3))
        pages.append(path)
    for stale in pages_in(folder, stem)[len(pages):]:
        stale.unlink(missing_ok=True)
    return pages


def _sheet_page(cfg: RunConfig, rows: list[tuple[ProductJob, list[CanvasJob]]],
                platforms: list[str]) -> np.ndarray:
    """One page of a sheet; each product's thumbnails are read as its row is drawn."""
    grid = ((job.sku, {canvas.platform: _sheet_cell(cfg, _ad(job, canvas), is_held(canvas))
                       for canvas in canvases}) for job, canvases in rows)
    return contact_sheet(grid, platforms, count=len(rows))


def _sheet_cell(cfg: RunConfig, ad: Manifest, held: bool = False) -> SheetCell:
    """A canvas on the sheet: its thumbnail, size, and a mark when it waits for review
    or a part fell back."""
    mark = REVIEW_MARK if held else fallback_mark(ad.meta["backends"])
    return SheetCell(blob_image(cfg, ad, "thumb"), ad.meta["width"], ad.meta["height"], mark)


def write_report(cfg: RunConfig) -> Path:
    """`<out>/<run>/report.html` (and `report-002.html`... past a page of products), from
    what the tracking database holds for the run; returns the first page."""
    summary = costed_summary(database(cfg.db_url), cfg.run_id, cfg.cost)
    folder = run_folder(cfg)
    sheets = [page.name for page in pages_in(folder, SHEET)]
    pages = report_pages(summary, cfg.images.sheet_page_size)
    for page in pages:
        write_file_atomic(folder / report_page_name(page.number),
                          render_html(summary, folder, sheets=sheets, page=page).encode())
    written = {report_page_name(page.number) for page in pages}
    for stale in folder.glob("report-*.html"):
        if stale.name not in written:
            stale.unlink(missing_ok=True)
    return folder / report_page_name(1)


def upload_report(cfg: RunConfig) -> str | None:
    """A remote store: the report's pages (`runs/<run>/report.html`, `report-002.html`...)
    with presigned links to every image, page and contact-sheet page, uploaded beside the
    run's records with the sheet's pages; returns the first page's presigned link. None
    for a local store. Raises TransientError while S3 is unreachable."""
    assets = store(cfg)
    if not assets.is_remote:
        return None
    summary = costed_summary(database(cfg.db_url), cfg.run_id, cfg.cost)
    folder = run_folder(cfg)
    sheets = upload_pages(assets, folder, cfg.run_id, pages_in(folder, SHEET))

    def href(number: int) -> str:
        return run_link(assets, cfg.run_id, report_page_name(number))

    for page in report_pages(summary, cfg.images.sheet_page_size, href):
        html = render_html(summary, folder, link=presigner(assets), sheets=sheets, page=page)
        assets.put_bytes(run_key(cfg.run_id, report_page_name(page.number)), html.encode(),
                         "text/html; charset=utf-8")
    assets.flush_pending()
    return href(1)
