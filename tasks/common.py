"""What every stage task shares: the retry policy, the backend lookup, how a batch's
outcomes are settled, how task runs are named, and what each batch used (`metered`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from prefect import get_run_logger, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from prefect.utilities.annotations import BaseAnnotation, quote

from adforge import metering
from adforge.db.metrics import record_stage_metrics
from adforge.errors import TransientError
from adforge.metering import Usage
from adforge.stagecache import RunConfig, database
from adforge.stages.job import Outcome, ProductJob
from models.registry import backend
from models.runtime import bind_run


def retry_transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a task only when it failed on a transient fault (storage, database, network)."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:  # noqa: BLE001 - anything else is final: bad input or a stage bug
        return False
    return False


# Our own content-addressed stage cache does resume; Prefect's result cache is not needed.
TASK_OPTIONS: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [1, 4, 10],
    "retry_condition_fn": retry_transient_only,
    "cache_policy": NO_CACHE,
    "persist_result": False,
}


def stage_backend(cfg: RunConfig, stage: str) -> Any:
    """The run's backend for `stage` (built once per process); the models it loads and
    unloads from now on are recorded as this run's."""
    bind_run(cfg.db_url, cfg.run_id)
    return backend(stage, getattr(cfg.backends, stage), cfg.models)


def settle(outcomes: list[Outcome]) -> list[Outcome]:
    """A batch's outcomes, as Prefect should see them.

    A transient fault (S3, the database) is raised once every product has had its turn,
    while Prefect has retries left: the retry skips what is already stored. After the
    last retry it stays the failure of the products it hit, and only theirs. A batch of
    one product fails its task run with that product's error, so the UI shows it."""
    fault = next((item for item in outcomes if isinstance(item, TransientError)), None)
    if fault is not None and _retries_left():
        raise fault
    if len(outcomes) == 1 and isinstance(outcomes[0], Exception):
        raise outcomes[0]
    return outcomes


def _retries_left() -> bool:
    from prefect.runtime import task_run

    return task_run.run_count <= TASK_OPTIONS["retries"]  # 0 outside a task run


def batch_run_name(stage: str) -> Callable[[], str]:
    """A task run is named after its stage and every SKU in its batch."""
    def name() -> str:
        from prefect.runtime import task_run

        jobs = task_run.parameters["jobs"]
        if isinstance(jobs, BaseAnnotation):  # still in the `quote` the flow passed
            jobs = jobs.unwrap()
        return f"{stage}-" + "+".join(job.sku for job in jobs)

    return name


def over_batches(cfg: RunConfig, batches: list[list[ProductJob]]) -> tuple[Any, list[Any]]:
    """Arguments for `task.map(...)` over micro-batches of products. Quoted: they hold no
    futures, so Prefect need not walk these records looking for any (half the per-task
    overhead)."""
    return unmapped(quote(cfg)), [quote(batch) for batch in batches]


BatchWork = Callable[[RunConfig, list[ProductJob]], list[Outcome]]
PRODUCT_STAGES = ("segment",)  # once per product; every other stage once per canvas


def metered(stage: str) -> Callable[[BatchWork], BatchWork]:
    """A stage task's body, measured (`adforge.metering`): the batch's wall, CPU and GPU
    seconds, peak GPU memory and model-load seconds, shared evenly over its products
    (segment) or its canvases, one stage_metrics row each, written in one transaction
    when the batch ends, however it ends."""
    def wrap(work: BatchWork) -> BatchWork:
        @functools.wraps(work)
        def run(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
            meter = metering.start()
            try:
                return work(cfg, jobs)
            finally:
                record_usage(cfg, stage, jobs, meter.stop())

        return run

    return wrap


def units(stage: str, jobs: list[ProductJob]) -> list[tuple[str, str]]:
    """What a stage's batch is made of: (sku, "") per product, or (sku, platform) per
    canvas."""
    if stage in PRODUCT_STAGES:
        return [(job.sku, "") for job in jobs]
    return [(job.sku, platform) for job in jobs for platform in job.canvases]


def record_usage(cfg: RunConfig, stage: str, jobs: list[ProductJob], usage: Usage) -> None:
    """The batch's stage_metrics rows. An account of the work, never a reason for it to
    fail: a row that cannot be written is a warning."""
    try:
        record_stage_metrics(database(cfg.db_url), cfg.run_id, stage,
                             metering.shares(usage, units(stage, jobs)))
    except Exception as error:  # noqa: BLE001 - the products' outcomes stand
        run_logger(__name__).warning("stage metrics of %s (%s) not recorded: %s", stage,
                                     "+".join(job.sku for job in jobs), error)


def run_logger(fallback: str) -> Any:
    """The run's logger inside a flow or task run; the plain logger `fallback` when
    called outside one (the benchmark's loop, tests)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(fallback)
