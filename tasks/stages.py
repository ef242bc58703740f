"""One Prefect task per stage, over a micro-batch of products (and all their canvases):
the backend looked up once, the core's stage function (`adforge.stages`) called, the
outcomes settled, what the batch used recorded (`metered`: stage_metrics rows).

Each returns one outcome per product (its job, or the error that failed it alone);
`settle` decides what Prefect retries.
"""

from __future__ import annotations

from typing import Any

from prefect import task

from adforge.stagecache import RunConfig
from adforge.stages.background import background_products, recompose_backgrounds
from adforge.stages.composite import composite_products
from adforge.stages.gate import gate_products
from adforge.stages.job import Outcome, ProductJob
from adforge.stages.layout import layout_products
from adforge.stages.publish import publish_products
from adforge.stages.segment import segment_products
from adforge.stages.text import text_products
from models.registry import backend
from models.repairs import other_segmenter, repair_ladder
from tasks.common import TASK_OPTIONS, batch_run_name, metered, settle, stage_backend


@task(name="segment", task_run_name=batch_run_name("segment"), **TASK_OPTIONS)
@metered("segment")
def segment_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Cut each product out of its photo (a segmenter that batches sees them at once)."""
    return settle(segment_products(cfg, jobs, stage_backend(cfg, "segment")))


@task(name="background", task_run_name=batch_run_name("background"), **TASK_OPTIONS)
@metered("background")
def background_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Make every canvas's backdrop at its size (a generator that batches makes them at
    once); recomposing, cover-fit the nearest stored one instead."""
    if cfg.recompose:
        return settle(recompose_backgrounds(cfg, jobs))
    return settle(background_products(cfg, jobs, stage_backend(cfg, "background")))


@task(name="composite", task_run_name=batch_run_name("composite"), **TASK_OPTIONS)
@metered("composite")
def composite_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Compose every canvas's layers: the product retouched toward its backdrop's light."""
    return settle(composite_products(cfg, jobs))


@task(name="layout", task_run_name=batch_run_name("layout"), **TASK_OPTIONS)
@metered("layout")
def layout_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Decide where the copy goes on every canvas, away from the product."""
    return settle(layout_products(cfg, jobs, stage_backend(cfg, "layout")))


@task(name="text", task_run_name=batch_run_name("text"), **TASK_OPTIONS)
@metered("text")
def text_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Set the copy on every canvas exactly as the brief says, then the logo."""
    return settle(text_products(cfg, jobs, text_renderers(cfg)))


@task(name="gate", task_run_name=batch_run_name("gate"), **TASK_OPTIONS)
@metered("gate")
def gate_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Judge every canvas by the quality gates; repair a failing one before review."""
    repairs = repair_ladder(stage_backend(cfg, "background"))
    return settle(gate_products(cfg, jobs, repairs, other_segmenter(cfg.backends.segment)))


@task(name="publish", task_run_name=batch_run_name("publish"), **TASK_OPTIONS)
@metered("publish")
def publish_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Deliver each product's passing canvases, hold the others for review; record rows."""
    return settle(publish_products(cfg, jobs))


def text_renderers(cfg: RunConfig) -> dict[str, Any]:
    """The renderer for each text mode: `edit` is the run's text backend (the edit model
    on the neural profiles), `typeset` the brand's fonts."""
    return {"edit": stage_backend(cfg, "text"), "typeset": backend("text", "typeset")}
