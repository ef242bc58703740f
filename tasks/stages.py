"""One Prefect task per stage, over a micro-batch of products: the backend looked up
once, the core's stage function (`adforge.stages`) called, the outcomes settled.

Each returns one outcome per product (its job, or the error that failed it alone);
`settle` decides what Prefect retries.
"""

from __future__ import annotations

from prefect import task

from adforge.stagecache import RunConfig
from adforge.stages.background import background_products
from adforge.stages.composite import composite_products
from adforge.stages.job import Outcome, ProductJob
from adforge.stages.layout import layout_products
from adforge.stages.publish import publish_products
from adforge.stages.renditions import RenditionBackends, rendition_products
from adforge.stages.segment import segment_products
from adforge.stages.text import text_products
from models.registry import backend
from tasks.common import TASK_OPTIONS, batch_run_name, settle, stage_backend


@task(name="segment", task_run_name=batch_run_name("segment"), **TASK_OPTIONS)
def segment_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Cut each product out of its photo (a segmenter that batches sees them at once)."""
    return settle(segment_products(cfg, jobs, stage_backend(cfg, "segment")))


@task(name="background", task_run_name=batch_run_name("background"), **TASK_OPTIONS)
def background_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Make each product's master backdrop (a generator that batches makes them at once)."""
    return settle(background_products(cfg, jobs, stage_backend(cfg, "background")))


@task(name="composite", task_run_name=batch_run_name("composite"), **TASK_OPTIONS)
def composite_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Retouch each product toward its backdrop's light and compose the layered master."""
    return settle(composite_products(cfg, jobs))


@task(name="layout", task_run_name=batch_run_name("layout"), **TASK_OPTIONS)
def layout_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Decide where the copy goes on each master, away from the product."""
    return settle(layout_products(cfg, jobs, stage_backend(cfg, "layout")))


@task(name="text", task_run_name=batch_run_name("text"), **TASK_OPTIONS)
def text_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Set each product's copy on its master exactly as the brief says."""
    return settle(text_products(cfg, jobs, stage_backend(cfg, "text")))


@task(name="renditions", task_run_name=batch_run_name("renditions"), **TASK_OPTIONS)
def renditions_batch(cfg: RunConfig, jobs: list[ProductJob],
                     platforms: list[str]) -> list[Outcome]:
    """Re-compose each product's layers at every platform's size (no model runs)."""
    return settle(rendition_products(cfg, jobs, platforms, rendition_backends(cfg)))


@task(name="publish", task_run_name=batch_run_name("publish"), **TASK_OPTIONS)
def publish_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Deliver each product's files and record its rows."""
    return settle(publish_products(cfg, jobs))


def rendition_backends(cfg: RunConfig) -> RenditionBackends:
    """The run's backdrop generator, with the classic layout and typesetting."""
    return RenditionBackends(background=stage_backend(cfg, "background"),
                             layout=backend("layout", "classic"),
                             text=backend("text", "typeset"))
