"""A person's review inside a paused campaign run (`review: manual`).

After rendering, a run whose canvases a quality gate held back pauses
(`pause_flow_run(wait_for_input=ReviewDecisions)`): its page shows the review sheet and
the held items as artifacts, and the Prefect UI's resume form lists every item with its
failing gates, a decision (approve / reject / hold) and a reason. Resumed, the run
applies the decisions exactly as `adforge approve|reject` does (adforge.review), then
finishes with its honest state. Nobody answering within `quality.review_timeout_s`
leaves the items in the review queue, where the CLI still decides them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.orchestration import get_client
from prefect.context import get_run_context
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Running
from pydantic import BaseModel, Field

from adforge import review
from adforge.db import reviews
from adforge.errors import AdForgeError
from adforge.stagecache import RunConfig, database
from adforge.stages import publish
from adforge.stages.job import ProductJob
from flows.artifacts import show_sheet, upload_sheet

POLL_S = 5  # how often the paused run looks for an answer
UI_REVIEWER = "prefect-ui"  # who decided, when the form's reviewer field is left empty


class Decision(StrEnum):
    hold = "hold"
    approve = "approve"
    reject = "reject"


class ItemDecision(BaseModel):
    """One held canvas and what to do with it."""

    sku: str = Field(title="SKU")
    platform: str = Field(title="Platform")
    failing: str = Field(default="", title="Failing gates",
                         description="what the quality gates measured, against their thresholds")
    decision: Decision = Field(
        default=Decision.hold, title="Decision",
        description="approve: publish it as it is; reject: drop it; hold: leave it in the "
                    "review queue (`adforge review`)")
    reason: str = Field(default="", title="Reason", description="why (kept with the decision)")


class ReviewDecisions(RunInput):
    """The resume form of a run that waits for review."""

    reviewer: str = Field(default="", title="Reviewer",
                          description="your name, kept with every decision")
    decisions: list[ItemDecision] = Field(default_factory=list, title="Decisions")


def held_items(jobs: list[ProductJob]) -> list[ItemDecision]:
    """Every canvas the gates held, as a form row with its failing gates in words."""
    return [ItemDecision(sku=job.sku, platform=platform,
                         failing=", ".join(r.words() for r in canvas.gate.chosen.failed))
            for job in jobs for platform, canvas in job.canvases.items()
            if canvas.gate is not None and publish.is_held(canvas)]


def review_in_prefect(cfg: RunConfig, jobs: list[ProductJob]) -> None:
    """Pause for a person's decisions on the held canvases (nothing held: no pause)."""
    items = held_items(jobs)
    if not items:
        return
    # 1. What the person looks at: the review sheet, the held items
    show_review_artifacts(cfg, jobs, items)
    form = ReviewDecisions.with_initial_data(description=form_description(cfg, items),
                                             decisions=items)
    # 2. Wait for the answer, or the timeout (the items then stay in the queue)
    logger = get_run_logger()
    logger.info("%d canvas(es) wait for review: resume this run with the decisions",
                len(items))
    try:
        answer = pause_flow_run(wait_for_input=form, timeout=cfg.quality.review_timeout_s,
                                poll_interval=POLL_S, key="review")
    except FlowPauseTimeout:
        logger.warning("no review within %d s: the canvases stay in the review queue "
                       "(`adforge review %s`)", cfg.quality.review_timeout_s, cfg.run_id)
        resume_after_timeout()
        return
    # 3. Apply them as the CLI would
    apply_decisions(cfg, jobs, answer)


def resume_after_timeout() -> None:
    """Back to Running after an unanswered pause, so the run can end with its honest
    state (Prefect would otherwise fail a run whose pause expired)."""
    flow_run_id = get_run_context().flow_run.id  # type: ignore[union-attr]
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Running(), force=True)


def apply_decisions(cfg: RunConfig, jobs: list[ProductJob], answer: Any) -> None:
    """Approve or reject each item as decided (a held item is left as it is); a
    decision that cannot apply is logged and skipped."""
    by = answer.reviewer.strip() or UI_REVIEWER
    by_sku = {job.sku: job for job in jobs}
    decided = []
    for item in answer.decisions:
        job = by_sku.get(item.sku)
        try:
            if job is None:
                raise AdForgeError(f"{item.sku} is not a product of run {cfg.run_id}")
            if item.decision is Decision.approve:
                review.approve(cfg, job, item.platform, by=by, reason=item.reason or None)
            elif item.decision is Decision.reject:
                review.reject(cfg, job, item.platform, by=by,
                              reason=item.reason or "rejected in the Prefect UI")
        except AdForgeError as error:
            get_run_logger().warning("decision on %s %s not applied: %s", item.sku,
                                     item.platform, error)
            continue
        decided.append(item.sku)
    for sku in dict.fromkeys(decided):
        reviews.settle_product(database(cfg.db_url), cfg.run_id, sku)


def show_review_artifacts(cfg: RunConfig, jobs: list[ProductJob],
                          items: list[ItemDecision]) -> None:
    """`review-sheet` (the held canvases as a picture) and `review-items` (a table)."""
    pages = publish.write_review_sheets(cfg, jobs)
    if pages:
        show_sheet(cfg, pages, upload_sheet(cfg, pages), key="review-sheet",
                   products=len({item.sku for item in items}),
                   title=f"run {cfg.run_id}: canvases held for review")
    create_table_artifact([item.model_dump(include={"sku", "platform", "failing"})
                           for item in items], key="review-items",
                          description=f"run {cfg.run_id}: what the quality gates held back")


def form_description(cfg: RunConfig, items: list[ItemDecision]) -> str:
    """The markdown above the resume form."""
    lines = [f"**{len(items)} canvas(es) of run `{cfg.run_id}` failed a quality gate "
             "after every repair.** See the `review-sheet` artifact; for each item choose "
             "approve (publish it as it is), reject (drop it, say why) or hold (decide "
             "later with `adforge approve|reject`).", ""]
    lines += [f"- `{item.sku}` {item.platform}: {item.failing}" for item in items]
    return "\n".join(lines)
