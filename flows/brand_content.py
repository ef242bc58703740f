"""The campaign flow: a brief and a brand kit in, finished platform ads out.

Stage-major: every product goes through one stage before the next stage starts, so a
neural backend is loaded once per batch, not once per product. One bad product never
fails the others: it is recorded in the errors table and the run ends by listing it.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, runtime
from prefect.task_runners import ThreadPoolTaskRunner

from adforge.brandkit import BrandKit, default_brand_kit, load_brand_kit
from adforge.brief import Brief, load_brief_lenient
from adforge.db import repository as repo
from adforge.errors import RowError
from adforge.settings import Settings, load_settings
from adforge.stagecache import RunConfig, database
from adforge.stages import publish
from adforge.stages.job import ProductJob
from flows import scale
from flows.artifacts import publish_run_artifacts
from flows.notify import notify_on_completion, notify_on_failure
from flows.resilience import recover_before_run, try_upload_report
from flows.stage_runs import ALL_STAGES, run_stages

IN_FLIGHT = 2  # task runs at once: the stages' imaging work fills two cores
RUNS_PER_WORKER = 2  # automatic micro-batches: task runs per stage and worker
MAX_AUTO_BATCH = 16


@flow(name="brand-content", log_prints=True,
      task_runner=ThreadPoolTaskRunner(max_workers=IN_FLIGHT),
      on_completion=[notify_on_completion], on_failure=[notify_on_failure])
def brand_content(
    brief: str,
    brand: str | None = None,
    profile: str | None = None,
    platforms: list[str] | None = None,
    out_dir: str | None = None,
    db_url: str | None = None,
    store: str | None = None,
    skus: list[str] | None = None,
) -> dict[str, Any]:
    """Render every product of `brief` for every platform; returns the run summary.

    `skus` limits the run to those rows (a chunk of a larger brief, see flows/scale.py)."""
    # 1. Settings, resolved once for the whole run, and the brand kit
    settings = load_settings(profile=profile, out_dir=out_dir, db_url=db_url, store=store)
    kit = (load_brand_kit(brand, cache_dir=settings.home / "cache" / "inputs", s3=settings.s3)
           if brand else default_brand_kit())
    chosen = platforms or settings.platforms
    # 2. Validate the brief: all row errors at once; valid rows go on
    parsed, row_errors = load_brief_lenient(brief, brand_styles=kit.style_names(),
                                            s3=settings.s3)
    if skus is not None:  # a chunk: only its rows; the parent reported the row errors
        parsed, row_errors = _only(parsed, skus), []
    elif scale.wants_chunks(settings, len(parsed.rows)):  # a large brief: chunk runs
        params = {"brief": brief, "brand": brand, "profile": profile, "platforms": chosen,
                  "out_dir": out_dir, "db_url": db_url, "store": store}
        failed = {error.item: f"brief: {error}" for error in row_errors}
        return scale.run_chunks(settings, params, [r.sku for r in parsed.rows], failed)
    # 3. Open the run (it records which earlier run of the same brief it resumes)
    cfg = open_run(settings, kit, parsed, brief)
    failed = _record_row_errors(cfg, row_errors)
    # 4. Segment each product; then every canvas (product x platform), stage by stage;
    #    then publish
    jobs = [ProductJob.for_platforms(row, chosen) for row in parsed.rows]
    jobs = run_stages(cfg, jobs, ALL_STAGES, failed)
    # 5. The run's status, contact sheet, report and artifacts
    return finish_run(cfg, jobs, failed)


def finish_run(cfg: RunConfig, jobs: list[ProductJob],
               failed: dict[str, str]) -> dict[str, Any]:
    """Close the run: status, contact sheet, report (uploaded beside an S3 store's
    records), the UI's artifacts; the run ends by listing what failed."""
    platforms = list(dict.fromkeys(name for job in jobs for name in job.canvases))
    sheet = publish.write_contact_sheet(cfg, jobs, platforms) if jobs else None
    status = "completed" if not failed else ("partial" if jobs else "failed")
    repo.finish_run(database(cfg.db_url), cfg.run_id, status,
                    n_products=len(jobs) + len(failed), n_failed=len(failed))
    report = publish.write_report(cfg)
    report_url = try_upload_report(cfg)
    publish_run_artifacts(cfg, sheet, jobs)
    for sku, reason in failed.items():
        get_run_logger().warning("FAILED %s: %s", sku, reason)
    return {"run_id": cfg.run_id, "status": status, "out_dir": str(publish.run_folder(cfg)),
            "report": str(report), "report_url": report_url,
            "contact_sheet": str(sheet) if sheet else None,
            "products": len(jobs), "failed": failed}


def _only(parsed: Brief, skus: list[str]) -> Brief:
    wanted = set(skus)
    return parsed.model_copy(update={"rows": [r for r in parsed.rows if r.sku in wanted]})


def open_run(settings: Settings, kit: BrandKit, parsed: Brief, brief: str) -> RunConfig:
    """The run's config (every setting resolved here, once) and its tracking rows."""
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    cfg = RunConfig(run_id=run_id, db_url=settings.database_url(), store=settings.store_spec(),
                    out_dir=settings.out_dir, profile=settings.profile,
                    backends=settings.stage_backends(), brand=kit,
                    composite=settings.composite, images=settings.images,
                    segment=settings.segment, min_font_px=settings.min_font_px,
                    products_per_task=products_per_task(settings.scale.products_per_task,
                                                        len(parsed.rows)),
                    home=settings.home, s3=settings.s3, models=settings.run_models(),
                    scale=settings.scale, notifications=settings.notifications,
                    text_mode=settings.text_mode())
    db = database(cfg.db_url)
    repo.start_run(db, run_id=run_id, brief=brief, brief_sha256=parsed.sha256, brand=kit.name,
                   profile=settings.profile, flow_run_id=str(runtime.flow_run.id or ""))
    for row in parsed.rows:
        repo.upsert_product(db, run_id=run_id, sku=row.sku, name=row.name,
                            source_uri=str(row.image))
    recover_before_run(cfg)  # sweep a killed run's temp files; upload a spool left behind
    publish.save_config(cfg)
    return cfg


def products_per_task(setting: int, products: int) -> int:
    """The micro-batch of the stages whose backend does not batch: the setting, or for
    0 about two task runs per worker and stage. Each task run costs Prefect about 14 ms
    (see README, Performance); a few per worker still keep both workers busy to the end
    of a stage."""
    if setting:
        return setting
    return max(1, min(MAX_AUTO_BATCH, math.ceil(products / (IN_FLIGHT * RUNS_PER_WORKER))))


def _record_row_errors(cfg: RunConfig, row_errors: list[RowError]) -> dict[str, str]:
    """Record the brief's bad rows; they start the run's list of failed products."""
    db = database(cfg.db_url)
    for error in row_errors:
        repo.record_error(db, cfg.run_id, error.item, "brief", "input", str(error),
                          field=error.column)
    return {error.item: f"brief: {error}" for error in row_errors}
