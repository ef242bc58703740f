"""Variants in a campaign run: every variant drafted cheaply, scored, then selected.

A brief whose products have several variants (backdrop variants: `variants`, `styles`;
copy variants: rows sharing a SKU with `variant` labels) runs, before the final pass:

1. segmentation once per product (its first variant; the others take the cutout as a
   cache hit),
2. the draft pass: one canvas per variant at the preview platform's aspect, 512 px long,
   through background, composite, layout and text with the run's `draft` setting (a
   neural generator's fewest steps, typesetting), nothing delivered,
3. the draft scores (recorded), the draft sheet (a file and the run's artifact),
4. the selection: the best `keep` per copy variant (`auto`), or a person's choice
   (`manual`: the run pauses, see flows/select.py). The variants not kept are marked
   `not-selected`; the kept ones go on to the final pass at full quality.

`draft=True` stops after step 3: the run ends with its drafts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger

from adforge.db import repository as repo
from adforge.db.models import NOT_SELECTED_STATUS
from adforge.stagecache import RunConfig, database
from adforge.stages.drafts import (
    draft_jobs,
    lead_variants,
    record_drafts,
    score_drafts,
    with_shared_cutouts,
    write_draft_sheet,
)
from adforge.stages.job import ProductJob
from adforge.variants import Selection, VariantScore
from flows.artifacts import show_sheet
from flows.select import choose_variants
from flows.stage_runs import ALL_STAGES, CANVAS_STAGES, record_failure, run_stages

SEGMENT = ALL_STAGES[:1]
DRAFT_STAGES = tuple(step for step in CANVAS_STAGES
                     if step[0] in ("background", "composite", "layout", "text"))


def has_variants(jobs: list[ProductJob]) -> bool:
    """Whether some product has more than one variant (its jobs' keys name them)."""
    return any(job.sku != job.row.sku for job in jobs)


def draft_variants(cfg: RunConfig, jobs: list[ProductJob], failed: dict[str, str],
                   preview: str) -> tuple[list[ProductJob], list[VariantScore], Path | None]:
    """Steps 1-3: the jobs with their products' cutouts, the drafts' scores, the sheet."""
    draft_cfg = cfg.model_copy(update={"draft": True})
    # 1. Each product cut out once
    jobs = segment_once(draft_cfg, jobs, failed)
    # 2. Each variant's draft canvas
    drafts = run_stages(draft_cfg, draft_jobs(jobs, preview), DRAFT_STAGES, failed)
    # 3. Scored, recorded, shown side by side
    scores = score_drafts(draft_cfg, drafts)
    record_drafts(draft_cfg, scores)
    if not drafts:
        return jobs, scores, None
    sheet = write_draft_sheet(draft_cfg, drafts, scores)
    show_sheet(cfg, [sheet], None, key="draft-sheet", products=len({s.sku for s in scores}),
               title=f"drafts of run {cfg.run_id}: each variant with its id and score")
    get_run_logger().info("drafted %d variant(s) of %d product(s): %s", len(scores),
                          len({s.sku for s in scores}), sheet)
    drafted = {item.key for item in scores}
    return [job for job in jobs if job.sku in drafted], scores, sheet


def segment_once(cfg: RunConfig, jobs: list[ProductJob],
                 failed: dict[str, str]) -> list[ProductJob]:
    """The first variant of each product is cut out; the others share its cutout, or
    fail with it."""
    leads = {job.row.sku: job for job in lead_variants(jobs)}
    cut = run_stages(cfg, list(leads.values()), SEGMENT, failed)
    lost = set(leads) - {job.row.sku for job in cut}
    for job in jobs:
        if job.row.sku in lost and job.sku not in failed:
            failed[job.sku] = failed[leads[job.row.sku].sku]
            record_failure(cfg, job.sku, "segment", RuntimeError(failed[job.sku]))
    return with_shared_cutouts(cut, jobs)


def select_variants(cfg: RunConfig, jobs: list[ProductJob], scores: list[VariantScore],
                    *, selection: str, keep: int) -> list[ProductJob]:
    """Step 4: the kept variants' jobs; the others are marked `not-selected`."""
    chosen: Selection = choose_variants(  # the draft sheet is on the run's page already
        cfg, scores, keep=keep, selection=selection, timeout_s=cfg.quality.review_timeout_s,
        sheet=None)
    kept = chosen.keys()
    db = database(cfg.db_url)
    for item in scores:
        if item.key not in kept:
            repo.set_product_status(db, cfg.run_id, item.key, NOT_SELECTED_STATUS)
    get_run_logger().info("selected (%s): %s", chosen.by, ", ".join(sorted(kept)))
    return [job for job in jobs if job.sku in kept]


def draft_outcome(cfg: RunConfig, scores: list[VariantScore], sheet: Path | None,
                  failed: dict[str, str]) -> dict[str, Any]:
    """A draft-only run's end: completed when some variant was drafted."""
    db = database(cfg.db_url)
    status = "completed" if scores else "failed"
    repo.finish_run(db, cfg.run_id, status, n_products=len(scores) + len(failed),
                    n_failed=len(failed))
    return {"run_id": cfg.run_id, "status": status, "products": 0, "failed": failed,
            "in_review": {}, "draft_sheet": str(sheet) if sheet else None,
            "contact_sheet": str(sheet) if sheet else None,
            "out_dir": str(cfg.out_dir / cfg.run_id),
            "drafts": [{"sku": s.sku, "variant": s.variant, "key": s.key, "score": s.score,
                        "terms": s.terms} for s in scores],
            "counts": {"published": 0, "in_review": 0, "failed": len(failed),
                       "drafted": len(scores)}}
