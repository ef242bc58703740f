"""The campaign flow: a brief and a brand kit in, finished platform ads out.

Stage-major: every product goes through one stage before the next stage starts, so a
neural backend is loaded once per batch, not once per product. One bad product never
fails the others: it is recorded in the errors table and the run ends by listing it.

Only canvases that pass the quality gates are delivered; the others wait for review
(with `review="manual"` the run pauses for a person's decisions). The run's final state
says how it ended: `Completed` when every product was published, `Partial` (a completed
state) when some failed or wait for review, `Failed` when none was published or waits.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from prefect import flow, get_run_logger, runtime
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from adforge import delivery, interrupts
from adforge.brandkit import BrandKit
from adforge.brief import Brief
from adforge.db import repository as repo
from adforge.db import reviews
from adforge.errors import InputError, RowError
from adforge.gates import AT_MOST
from adforge.settings import Settings
from adforge.stagecache import RunConfig, database
from adforge.stages import publish
from adforge.stages.job import ProductJob
from flows import scale
from flows.artifacts import publish_run_artifacts
from flows.events import emit_run_events
from flows.notify import notify_on_completion, notify_on_failure, notify_on_start, outcome_text
from flows.resilience import recover_before_run, try_upload_report
from flows.review import review_in_prefect
from flows.run_start import RunStart, prepare_run, record_warnings, refused
from flows.stage_runs import ALL_STAGES, run_stages
from flows.variants import draft_outcome, draft_variants, has_variants, select_variants

ReviewMode = Literal["queue", "manual"]
SelectionMode = Literal["auto", "manual"]
DEFAULT_PREVIEW = "instagram_post"  # the drafts' platform

IN_FLIGHT = 2  # task runs at once: the stages' imaging work fills two cores
RUNS_PER_WORKER = 2  # automatic micro-batches: task runs per stage and worker
MAX_AUTO_BATCH = 16


@flow(name="brand-content", log_prints=True,
      task_runner=ThreadPoolTaskRunner(max_workers=IN_FLIGHT),
      on_running=[notify_on_start], on_completion=[notify_on_completion],
      on_failure=[notify_on_failure])
def brand_content(
    brief: str,
    brand: str | None = None,
    profile: str | None = None,
    platforms: list[str] | None = None,
    out_dir: str | None = None,
    store: str | None = None,
    skus: list[str] | None = None,
    review: ReviewMode = "queue",
    variants: int = 1,
    draft: bool = False,
    preview: str = DEFAULT_PREVIEW,
    selection: SelectionMode = "auto",
    keep: int = 1,
) -> State:
    """Render every product of `brief` for every platform; the final state carries the
    run summary (`state.result(raise_on_failure=False)`). `skus`: only those products (a
    chunk, flows/scale.py). `review`: held canvases wait in the queue, or the run pauses
    for a person (`manual`). A product with several variants (`variants`: of a row with
    no `variants` cell) is drafted on `preview` first; the best `keep` per copy variant go
    on (`selection` auto) or a person's choice (manual); `draft` stops after the drafts
    (flows/variants.py)."""
    # 1. Settings (the database's URL, a secret, from the environment: never a
    #    parameter), the brand kit, every check that can fail before the work, and the
    #    brief's rows (all row errors at once; valid rows go on). Bad input ends here.
    try:
        start = prepare_run(brief, brand=brand, profile=profile, platforms=platforms,
                            out_dir=out_dir, store=store, variants=variants,
                            preview=preview, keep=keep)
    except InputError as error:
        return refused(error)
    settings, kit, chosen = start.settings, start.kit, start.platforms
    parsed, row_errors = start.brief, start.row_errors
    # 2. A chunk of a larger brief, or a brief large enough to be split into chunks
    if skus is not None:  # a chunk: only its rows; the parent reported the row errors
        parsed, row_errors = _only(parsed, skus), []
    elif scale.wants_chunks(settings, len(parsed.rows)):  # a large brief: chunk runs
        return final_state(run_in_chunks(start, runtime.flow_run.parameters))
    # 3. Open the run (it records which earlier run of the same brief it resumes)
    cfg = open_run(settings, kit, parsed, brief)
    record_warnings(cfg, start.warnings)
    failed = _record_row_errors(cfg, row_errors)
    jobs = [ProductJob.for_platforms(row, chosen) for row in parsed.rows]
    # 4. Variants: each drafted cheaply and scored, then the kept ones go on (a draft
    #    run ends with its drafts)
    if draft or has_variants(jobs):
        jobs, scores, sheet = draft_variants(cfg, jobs, failed, preview)
        if draft:
            return final_state(draft_outcome(cfg, scores, sheet, failed))
        jobs = select_variants(cfg, jobs, scores, selection=selection, keep=keep)
    # 5. Segment each product; then every canvas (product x platform), stage by stage;
    #    then the quality gates (repairs first), then publish what passed
    jobs = run_stages(cfg, jobs, ALL_STAGES, failed)
    # 6. What the gates held back: a person decides now (manual), or later (queue)
    if review == "manual":
        review_in_prefect(cfg, jobs)
    # 7. The run's status, contact sheet, report and artifacts; its honest final state
    return final_state(finish_run(cfg, jobs, failed))


def run_in_chunks(start: RunStart, parameters: dict[str, Any]) -> dict[str, Any]:
    """A large brief as chunk runs of whole products (every variant of a product in one
    chunk, so its drafts are compared together), with this run's other parameters."""
    params = {name: value for name, value in parameters.items()
              if name not in ("skus", "review")} | {"platforms": start.platforms}
    failed = {error.item: f"brief: {error}" for error in start.row_errors}
    products = list(dict.fromkeys(row.sku for row in start.brief.rows))
    return scale.run_chunks(start.settings, params, products, failed)


def finish_run(cfg: RunConfig, jobs: list[ProductJob],
               failed: dict[str, str]) -> dict[str, Any]:
    """Close the run: status, contact sheet, the results webhook, report (uploaded beside
    an S3 store's records), the UI's artifacts, Prefect events; the run ends by listing
    what failed and what waits for review."""
    platforms = list(dict.fromkeys(name for job in jobs for name in job.canvases))
    sheets = publish.write_contact_sheets(cfg, jobs, platforms)
    db = database(cfg.db_url)
    counts = reviews.counts(db, cfg.run_id, n_products=len(jobs) + len(failed))
    repo.finish_run(db, cfg.run_id, counts.status, n_products=counts.total,
                    n_failed=counts.failed)
    delivered = delivery.deliver_run(cfg)  # the results webhook; never raises
    report = publish.write_report(cfg)  # after delivering: it shows a failed delivery
    outcome = {"run_id": cfg.run_id, "status": counts.status,
               "out_dir": str(publish.run_folder(cfg)), "report": str(report),
               "report_url": try_upload_report(cfg),
               "contact_sheet": str(sheets[0]) if sheets else None,
               "contact_sheets": [str(page) for page in sheets],
               "products": counts.published, "failed": failed | rejected(cfg),
               "in_review": waiting(cfg), "duration_s": duration_s(cfg),
               "counts": {"published": counts.published, "in_review": counts.in_review,
                          "failed": counts.failed}, "delivery": delivered.as_dict()}
    publish_run_artifacts(cfg, sheets, jobs, outcome)
    emit_run_events(cfg, outcome)  # for Prefect automations
    if delivered.failed:
        get_run_logger().warning("RESULTS WEBHOOK %s", delivered.words())
    for sku, reason in outcome["failed"].items():
        get_run_logger().warning("FAILED %s: %s", sku, reason)
    for sku, why in outcome["in_review"].items():
        get_run_logger().warning("IN REVIEW %s: %s", sku, why)
    return outcome


def final_state(outcome: dict[str, Any]) -> State:
    """The run's state in Prefect, carrying its outcome: `Completed` when every product
    was published, `Partial` when some failed or wait for review, `Failed` when none
    was published and none waits."""
    outcome = {"counts": {"published": outcome.get("products", 0), "in_review": 0,
                          "failed": len(outcome.get("failed") or {})}} | outcome  # chunks
    message = outcome_text(outcome)
    if outcome["status"] == "completed":
        return Completed(message=message, data=outcome)
    if outcome["status"] == "partial":
        return Completed(name="Partial", message=message, data=outcome)
    return Failed(message=message, data=outcome)


def outcome_of(state: State) -> dict[str, Any]:
    """The run summary a finished campaign's state carries, whatever its state (a run
    that crashed raises its error here)."""
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome  # type: ignore[no-any-return]


def waiting(cfg: RunConfig) -> dict[str, str]:
    """sku -> its canvases waiting for review and their failing gates, the canvases that
    failed the same way named together (`instagram_post, blog_header: segment_confidence
    0.05 < 0.5`)."""
    held: dict[str, dict[str, list[str]]] = {}
    for item in reviews.items(database(cfg.db_url), run_id=cfg.run_id):
        gates = ", ".join(f"{f['gate']} {f['value']:.3g} {'>' if f['gate'] in AT_MOST else '<'}"
                          f" {f['threshold']:g}" for f in item["failing"])
        held.setdefault(item["sku"], {}).setdefault(gates, []).append(item["platform"])
    return {sku: "; ".join(f"{', '.join(platforms)}: {gates}"
                           for gates, platforms in by_gates.items())
            for sku, by_gates in held.items()}


def rejected(cfg: RunConfig) -> dict[str, str]:
    """sku -> why, for products a person rejected every held canvas of (manual review)."""
    db = database(cfg.db_url)
    summary = repo.run_summary(db, cfg.run_id)
    return {p["sku"]: "rejected in review: " + "; ".join(
                f"{r['platform']}: {r['reason']}" for r in p["reviews"]
                if r["status"] == "rejected")
            for p in summary["products"] if p["status"] == "rejected"}


def duration_s(cfg: RunConfig) -> float:
    started = repo.run_summary(database(cfg.db_url), cfg.run_id)["started_at"]
    return (datetime.now(UTC) - datetime.fromisoformat(started)).total_seconds()


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
                    segment=settings.segment, quality=settings.quality,
                    min_font_px=settings.min_font_px,
                    products_per_task=products_per_task(settings.scale.products_per_task,
                                                        len(parsed.rows)),
                    home=settings.home, s3=settings.s3, models=settings.run_models(),
                    scale=settings.scale, notifications=settings.notifications,
                    delivery=settings.delivery, cost=settings.cost,
                    text_mode=settings.text_mode())
    db = database(cfg.db_url)
    repo.start_run(db, run_id=run_id, brief=brief, brief_sha256=parsed.sha256, brand=kit.name,
                   profile=settings.profile, flow_run_id=str(runtime.flow_run.id or ""))
    for row in parsed.rows:
        repo.upsert_product(db, run_id=run_id, sku=row.key, name=row.name,
                            source_uri=str(row.image))
    interrupts.started(cfg.run_id, cfg.db_url)  # Ctrl-C in the shell marks it interrupted
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
