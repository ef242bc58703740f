"""Running stages over a run's products, stage-major, for any flow.

Every stage runs over every product (and each product's canvases) before the next one
starts, so a model loads once per batch whatever the number of products and platforms.
Each stage is one task run per micro-batch; a product that fails a stage is recorded
(errors table, product status) and goes no further, and never stops the others.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.futures import PrefectFuture

from adforge import progress
from adforge.db import repository as repo
from adforge.stagecache import RunConfig, database
from adforge.stages.job import ProductJob
from flows import scale
from flows.resilience import failure_kind
from models.registry import backend
from tasks import stages
from tasks.common import over_batches

# (stage, its task): a stage named in `StageBackends` runs that backend's model
CANVAS_STAGES = (("background", stages.background_batch),
                 ("composite", stages.composite_batch), ("layout", stages.layout_batch),
                 ("text", stages.text_batch), ("gate", stages.gate_batch),
                 ("publish", stages.publish_batch))
ALL_STAGES = (("segment", stages.segment_batch), *CANVAS_STAGES)


def run_stages(cfg: RunConfig, jobs: list[ProductJob], steps: tuple[tuple[str, Any], ...],
               failed: dict[str, str]) -> list[ProductJob]:
    """Every step over every product, stage-major; returns the products that came
    through the last one. A product that fails is recorded in `failed`."""
    canvases = sum(len(job.canvases) for job in jobs)
    get_run_logger().info("run %s: %d products, %d canvases", cfg.run_id, len(jobs), canvases)
    tracker = _Progress(len(steps), len(jobs))
    for name, stage in steps:
        model = _model_of(cfg, name)
        with scale.gpu_slot(cfg.scale, model):  # a model-running stage: this host's slot
            jobs = _collect(cfg, name, _submit(cfg, stage, jobs, _batch_size(cfg, model)),
                            failed)
        tracker.step(name, len(jobs))
    return jobs


def _model_of(cfg: RunConfig, stage: str) -> Any:
    """The backend that runs in `stage` (None where the stage runs none of its own)."""
    if cfg.recompose and stage == "background":
        return None
    name = getattr(cfg.backends, stage, None)
    return backend(stage, name, cfg.models) if name else None


def _batch_size(cfg: RunConfig, model: Any) -> int:
    """Products per task: the model's batch where its backend batches (BiRefNet, FLUX),
    else the run's `products_per_task`."""
    return model.batch_size if model is not None and model.batches else cfg.products_per_task


Submitted = list[tuple[list[ProductJob], PrefectFuture[Any]]]


def _submit(cfg: RunConfig, stage: Any, jobs: list[ProductJob], size: int) -> Submitted:
    """One task run per micro-batch of `size` products."""
    batches = [jobs[start:start + size] for start in range(0, len(jobs), size)]
    futures = stage.map(*over_batches(cfg, batches))
    return list(zip(batches, futures, strict=True))


def _collect(cfg: RunConfig, name: str, submitted: Submitted,
             failed: dict[str, str]) -> list[ProductJob]:
    """Wait for one stage over all products; record each failure and drop that product."""
    done = []
    for batch, future in submitted:
        for job, outcome in zip(batch, _outcomes(future, len(batch)), strict=True):
            if isinstance(outcome, BaseException):
                record_failure(cfg, job.sku, name, outcome)
                failed[job.sku] = f"{name}: {outcome}"
            else:
                done.append(outcome)
    return done


def _outcomes(future: PrefectFuture[Any], products: int) -> list[Any]:
    """Each product's outcome of a batch task; a failed task run is every one of its
    products' failure."""
    future.wait()
    if not future.state.is_completed():
        return [future.state.result(raise_on_failure=False)] * products
    return future.result()


def record_failure(cfg: RunConfig, sku: str, stage: str, error: BaseException) -> None:
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
