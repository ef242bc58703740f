"""Drafts of a product's variants: cheap canvases to choose from, scored and shown.

A draft is one canvas per variant at a preview platform's aspect, its long side
`DRAFT_LONG_SIDE` pixels, made by the run's own stages with `cfg.draft` set (a neural
generator's fewest steps, typesetting, nothing delivered). Each draft is scored from
what its gates measured (`adforge.variants.draft_score`), the score and its terms are
recorded as the draft's quality rows (subject `draft`), and the draft sheet shows every
product's variants side by side with their ids and scores.
"""

from __future__ import annotations

from pathlib import Path

from adforge.db import repository as repo
from adforge.db.models import DRAFT_STATUS
from adforge.gates import evaluate
from adforge.imageio import encode_png
from adforge.imaging.contact_sheet import SheetCell, contact_sheet
from adforge.specs import rendition_spec
from adforge.stagecache import RunConfig, database
from adforge.stages.gate import measures_of
from adforge.stages.job import CanvasJob, ProductJob, blob_image
from adforge.storage import write_file_atomic
from adforge.variants import VariantScore, draft_score, split_key

DRAFT_LONG_SIDE = 512
DRAFT_SHEET = "draft_sheet.png"



def draft_platform(preview: str) -> str:
    """The draft canvas of a preview platform: its aspect, the long side 512 px
    (`1080x1920` → `288x512`), as a custom `WxH` platform."""
    spec = rendition_spec(preview)
    scale = DRAFT_LONG_SIDE / max(spec.width, spec.height)
    return f"{max(16, round(spec.width * scale))}x{max(16, round(spec.height * scale))}"


def draft_jobs(jobs: list[ProductJob], preview: str) -> list[ProductJob]:
    """Each variant's job with the one draft canvas instead of its platforms."""
    size = draft_platform(preview)
    return [job.model_copy(update={"canvases": {size: CanvasJob(platform=size)},
                                   "finished": {}}) for job in jobs]


def with_shared_cutouts(leads: list[ProductJob], jobs: list[ProductJob]) -> list[ProductJob]:
    """Every variant's job with its product's cutout, cut out once (by the lead variant
    of each SKU): the others take it as a cache hit."""
    cut = {job.row.sku: job.cutout for job in leads if job.cutout is not None}
    return [job if job.cutout is not None else
            job.model_copy(update={"cutout": cut[job.row.sku].model_copy(
                update={"cached": True})})
            for job in jobs if job.row.sku in cut]


def lead_variants(jobs: list[ProductJob]) -> list[ProductJob]:
    """The first variant of each SKU: the one whose photo is cut out."""
    first: dict[str, ProductJob] = {}
    for job in jobs:
        first.setdefault(job.row.sku, job)
    return list(first.values())


def score_drafts(cfg: RunConfig, drafts: list[ProductJob]) -> list[VariantScore]:
    """Each drafted variant's score from its draft canvas's measured gates."""
    scores = []
    for job in drafts:
        canvas = next(iter(job.canvases.values()))
        results = evaluate(measures_of(job, canvas), cfg.quality, canvas.platform)
        score, terms = draft_score({r.gate: r.value for r in results},
                                   {r.gate: r.threshold for r in results})
        sku, _ = split_key(job.sku)
        scores.append(VariantScore(key=job.sku, sku=sku, variant=job.row.variant,
                                   score=score, terms=terms, copy=job.row.copy_variant))
    return scores


def record_drafts(cfg: RunConfig, scores: list[VariantScore]) -> None:
    """Each draft's score and terms (quality rows, subject `draft`); status `draft`."""
    db = database(cfg.db_url)
    for item in scores:
        checks = {"score": (item.score, True)} | {
            f"score_{term}": (value, True) for term, value in item.terms.items()}
        repo.record_qualities(db, run_id=cfg.run_id, sku=item.key, subject="draft",
                              checks=checks)
        repo.set_product_status(db, cfg.run_id, item.key, DRAFT_STATUS)


def write_draft_sheet(cfg: RunConfig, drafts: list[ProductJob],
                      scores: list[VariantScore]) -> Path:
    """`<out>/<run>/draft_sheet.png`: a row per product, its variants left to right
    (best first), each labelled with its variant id and score."""
    by_key = {job.sku: job for job in drafts}
    per_sku: dict[str, list[VariantScore]] = {item.sku: [] for item in scores}  # brief order
    for item in sorted(scores, key=lambda s: (-s.score, s.variant)):
        per_sku[item.sku].append(item)
    columns = [f"variant {n}" for n in range(1, max(map(len, per_sku.values()), default=0) + 1)]
    grid = [(sku, {column: _draft_cell(cfg, by_key[item.key], item)
                   for column, item in zip(columns, items, strict=False)})
            for sku, items in per_sku.items()]
    path = cfg.out_dir / cfg.run_id / DRAFT_SHEET
    write_file_atomic(path, encode_png(contact_sheet(grid, columns, missing=""), level=3))
    return path


def _draft_cell(cfg: RunConfig, job: ProductJob, item: VariantScore) -> SheetCell:
    ad = next(iter(job.canvases.values())).need("text", job.sku)
    return SheetCell(blob_image(cfg, ad, "thumb"), ad.meta["width"], ad.meta["height"],
                     caption=f"{item.variant}  {item.score:.2f}")
