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

from prefect import flow, get_run_logger, runtime, unmapped
from prefect.artifacts import (
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from adforge import progress
from adforge.brandkit import BrandKit, default_brand_kit, load_brand_kit
from adforge.brief import Brief, load_brief_lenient
from adforge.db import repository as repo
from adforge.errors import RowError
from adforge.settings import Settings, load_settings
from adforge.stagecache import RunConfig, database
from flows import scale
from flows.artifacts import publish_run_artifacts
from flows.notify import notify_on_completion, notify_on_failure
from flows.resilience import failure_kind, recover_before_run, upload_report
from models.registry import backend
from tasks import publish, stages
from tasks.common import ProductJob, over_products

STAGES = (("segment", stages.segment), ("background", stages.background),
          ("composite", stages.composite), ("layout", stages.layout), ("text", stages.text))
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
    logger = get_run_logger()
    # 1. Settings and brand kit
    settings = load_settings(profile=profile, out_dir=out_dir, db_url=db_url, store=store)
    kit = load_brand_kit(brand) if brand else default_brand_kit()
    chosen = platforms or settings.platforms
    # 2. Validate the brief: all row errors at once; valid rows go on
    parsed, row_errors = load_brief_lenient(brief, brand_styles=kit.style_names())
    if skus is not None:  # a chunk: only its rows; the parent reported the row errors
        parsed, row_errors = _only(parsed, skus), []
    elif scale.wants_chunks(settings, len(parsed.rows)):  # a large brief: chunk runs
        params = {"brief": brief, "brand": brand, "profile": profile, "platforms": chosen,
                  "out_dir": out_dir, "db_url": db_url, "store": store}
        failed = {error.item: f"brief: {error}" for error in row_errors}
        return scale.run_chunks(settings, params, [r.sku for r in parsed.rows], failed)
    # 3. Open the run (it records which earlier run of the same brief it resumes)
    cfg = open_run(settings, kit, parsed, brief)
    _record_row_errors(cfg, row_errors)
    jobs = [ProductJob(row=row) for row in parsed.rows]
    failed = {error.item: f"brief: {error}" for error in row_errors}
    logger.info("run %s: %d products x %d platforms", cfg.run_id, len(jobs), len(chosen))
    tracker = _Progress(len(STAGES) + 2, len(jobs))
    # 4. The stages, stage-major
    for name, stage in STAGES:
        with scale.gpu_slot(settings, _model_of(cfg, name)):  # model stages: per-host slot
            jobs = [job for _, job in _collect(cfg, name, _submit(cfg, name, stage, jobs),
                                               failed)]
        tracker.step(name, len(jobs))
    # 5. Renditions: re-composed per platform from the layers
    submitted = _submit(cfg, "renditions", stages.renditions, jobs, unmapped(chosen))
    jobs = [job for _, job in _collect(cfg, "renditions", submitted, failed)]
    tracker.step("renditions", len(jobs))
    # 6. Publish: files, rows, contact sheet, report, artifacts
    submitted = _submit(cfg, "publish", publish.publish_product, jobs)
    published = {job.sku: uris for job, uris in _collect(cfg, "publish", submitted, failed)}
    tracker.step("publish", len(published))
    sheet = (publish.write_contact_sheet(cfg, [j for j in jobs if j.sku in published], chosen)
             if published else None)
    status = "completed" if not failed else ("partial" if published else "failed")
    repo.finish_run(database(cfg.db_url), cfg.run_id, status,
                    n_products=len(published) + len(failed), n_failed=len(failed))
    report = publish.write_report(cfg)
    report_url = upload_report(cfg)
    publish_run_artifacts(cfg, sheet, jobs)
    # 7. The run ends by listing what failed
    for sku, reason in failed.items():
        logger.warning("FAILED %s: %s", sku, reason)
    return {"run_id": cfg.run_id, "status": status, "out_dir": str(publish.run_folder(cfg)),
            "report": str(report), "report_url": report_url,
            "contact_sheet": str(sheet) if sheet else None,
            "products": len(published), "failed": failed}


def _only(parsed: Brief, skus: list[str]) -> Brief:
    wanted = set(skus)
    return parsed.model_copy(update={"rows": [r for r in parsed.rows if r.sku in wanted]})


def _model_of(cfg: RunConfig, stage: str) -> object | None:
    """The backend that runs a model in `stage` (None for pure imaging stages)."""
    name = getattr(cfg.backends, stage, None)
    return backend(stage, name, cfg.profile) if name else None


def open_run(settings: Settings, kit: BrandKit, parsed: Brief, brief: str) -> RunConfig:
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    cfg = RunConfig(run_id=run_id, db_url=settings.database_url(), store=settings.store_spec(),
                    out_dir=settings.out_dir, profile=settings.profile,
                    backends=settings.stage_backends(), brand=kit,
                    composite=settings.composite, images=settings.images,
                    segment=settings.segment, min_font_px=settings.min_font_px,
                    products_per_task=products_per_task(settings.scale.products_per_task,
                                                        len(parsed.rows)))
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


def _record_row_errors(cfg: RunConfig, row_errors: list[RowError]) -> None:
    db = database(cfg.db_url)
    for error in row_errors:
        repo.record_error(db, cfg.run_id, error.item, "brief", "input", str(error),
                          field=error.column)


Submitted = list[tuple[list[ProductJob], PrefectFuture[Any]]]


def _submit(cfg: RunConfig, name: str, stage: Any, jobs: list[ProductJob],
            *extra: Any) -> Submitted:
    """One task per product, or one per micro-batch: where the stage's model batches, or
    when `scale.products_per_task` asks for larger task runs."""
    size = stages.micro_batch(cfg, name)
    if size == 1:
        return _each(jobs, stage.map(*over_products(cfg, jobs), *extra))
    chunks = [jobs[start:start + size] for start in range(0, len(jobs), size)]
    futures = stages.batch_task(name, stage).map(*over_products(cfg, chunks), *extra)
    return list(zip(chunks, futures, strict=True))


def _each(jobs: list[ProductJob], futures: Any) -> Submitted:
    return [([job], future) for job, future in zip(jobs, futures, strict=True)]


def _collect(cfg: RunConfig, name: str, submitted: Submitted,
             failed: dict[str, str]) -> list[tuple[ProductJob, Any]]:
    """Wait for one stage over all products; record each failure and drop that product."""
    done = []
    for chunk, future in submitted:
        for job, outcome in zip(chunk, _outcomes(future, len(chunk)), strict=True):
            if isinstance(outcome, BaseException):
                _record_failure(cfg, job.sku, name, outcome)
                failed[job.sku] = f"{name}: {outcome}"
            else:
                done.append((job, outcome))
    return done


def _outcomes(future: PrefectFuture[Any], products: int) -> list[Any]:
    """Each product's result of a task: a batch task's list, or the one result; a failed
    task is every one of its products' failure."""
    future.wait()
    if not future.state.is_completed():
        return [future.state.result(raise_on_failure=False)] * products
    result = future.result()
    return result if isinstance(result, list) else [result]


def _record_failure(cfg: RunConfig, sku: str, stage: str, error: BaseException) -> None:
    db = database(cfg.db_url)
    kind, status = failure_kind(error)
    field = getattr(error, "field", None) or None
    repo.record_error(db, cfg.run_id, sku, stage, kind, str(error), field=field)
    repo.set_product_status(db, cfg.run_id, sku, status)


class _Progress:
    """Progress as a Prefect artifact and as local events for the CLI."""

    def __init__(self, steps: int, products: int) -> None:
        self.steps, self.done, self.products = steps, 0, products
        self.artifact_id = create_progress_artifact(progress=0.0, key="campaign-progress")

    def step(self, stage: str, alive: int) -> None:
        self.done += 1
        update_progress_artifact(self.artifact_id, progress=100.0 * self.done / self.steps)
        progress.emit(stage, self.done, self.steps, f"{alive}/{self.products} products")
