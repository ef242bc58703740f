"""Scale-out: a large brief split into chunk runs on the GPU pool, and per-host GPU slots.

Chunks are lists of SKUs of the same brief URI (the brief and its photos must be
readable at that path by every worker: a shared folder, or the same checkout on each
machine). Each chunk is a run of the `brand-content/chunk` deployment, so Prefect
places it on whichever GPU worker is free; that worker runs the chunk stage-major. The
parent waits for all of them, submits a crashed or failed chunk again (the stage cache
makes the retry resume), and aggregates the chunk runs' rows from the tracking database.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import FlowRun
from prefect.concurrency.sync import concurrency
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from sqlalchemy import select

from adforge.db import models
from adforge.db import repository as repo
from adforge.settings import ScaleSettings, Settings
from adforge.stagecache import database
from adforge.variants import split_key


def gpu_slot_name() -> str:
    return f"gpu-{socket.gethostname()}"


def _ensure_limit(name: str, slots: int) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=slots))
            except ObjectAlreadyExists:
                pass  # another worker on this host created it first


@contextmanager
def gpu_slot(scale: ScaleSettings, backend: Any) -> Iterator[None]:
    """Hold this host's GPU concurrency slot while a model-running stage works
    (`backend` None: the stage runs no model)."""
    if backend is None or scale.gpu_slot == "never" or (
            scale.gpu_slot == "auto" and not backend.needs_gpu):
        yield
        return
    name = gpu_slot_name()
    _ensure_limit(name, scale.gpu_slots_per_host)
    get_run_logger().info("waiting for GPU slot %s", name)
    with concurrency(name, occupy=1, strict=True):
        yield


def wants_chunks(settings: Settings, n_rows: int) -> bool:
    """Split when a chunk size is set, the brief is larger, and the chunk deployment exists."""
    size = settings.scale.chunk_size
    if not size or n_rows <= size:
        return False
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(settings.scale.chunk_deployment)
        except ObjectNotFound:
            get_run_logger().warning("no deployment %s: running %d rows in this run",
                                     settings.scale.chunk_deployment, n_rows)
            return False
    return True


def split(skus: list[str], size: int) -> list[list[str]]:
    return [skus[i:i + size] for i in range(0, len(skus), size)]


def _submit(settings: Settings, params: dict[str, Any], index: int) -> FlowRun:
    return run_deployment(settings.scale.chunk_deployment, parameters=params, timeout=0,
                          flow_run_name=f"chunk-{index}")


def _wait(flow_run_id: Any, timeout_s: int) -> FlowRun:
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(flow_run_id)
            if flow_run.state and flow_run.state.is_final():
                return flow_run
            if time.monotonic() > deadline:
                raise TimeoutError(f"chunk run {flow_run.name} not finished in {timeout_s} s")
            time.sleep(2)


def _run_one(settings: Settings, params: dict[str, Any], index: int) -> FlowRun:
    """Submit one chunk and wait; submit it again while it crashes or fails."""
    logger = get_run_logger()
    for attempt in range(settings.scale.chunk_retries + 1):
        finished = _wait(_submit(settings, params, index).id, settings.scale.chunk_timeout_s)
        if finished.state and finished.state.is_completed():
            return finished
        logger.warning("chunk %d attempt %d ended %s", index, attempt + 1,
                       finished.state.name if finished.state else "?")
    return finished


def _tracking_run_id(settings: Settings, flow_run: FlowRun) -> str | None:
    db = database(settings.database_url())
    with db.session() as session:
        return session.scalars(select(models.Run.id)
                               .where(models.Run.flow_run_id == str(flow_run.id))
                               .order_by(models.Run.started_at.desc())).first()


def run_chunks(settings: Settings, params: dict[str, Any], skus: list[str],
               failed: dict[str, str]) -> dict[str, Any]:
    """Run `skus` as chunk runs (all submitted at once), wait, and aggregate."""
    # 1. Submit every chunk; each waits for a free worker on the GPU pool
    chunks = split(skus, settings.scale.chunk_size)
    get_run_logger().info("%d rows -> %d chunk runs of %s", len(skus), len(chunks),
                          settings.scale.chunk_deployment)
    submitted = [_submit(settings, params | {"skus": chunk}, i) for i, chunk in enumerate(chunks)]
    # 2. Wait for each; a crashed or failed chunk is submitted again
    finished = [_wait(run.id, settings.scale.chunk_timeout_s) for run in submitted]
    for i, run in enumerate(finished):
        if not (run.state and run.state.is_completed()):
            finished[i] = _run_one(settings, params | {"skus": chunks[i]}, i)
    # 3. Aggregate the chunk runs' rows
    return aggregate(settings, chunks, finished, failed)


def _product_statuses(products: list[dict[str, Any]]) -> dict[str, str]:
    """Each product's status by its SKU; a product with variants (records
    `<sku>/<variant>`) takes its best variant's: done, else waiting for review."""
    statuses: dict[str, str] = {}
    for product in products:
        sku = split_key(product["sku"])[0]
        if statuses.get(sku) not in ("done", "needs-review") or product["status"] == "done":
            statuses[sku] = product["status"]
    return statuses


def aggregate(settings: Settings, chunks: list[list[str]], finished: list[FlowRun],
              failed: dict[str, str]) -> dict[str, Any]:
    """The campaign's outcome from its chunk runs' rows: a product is published, waits
    for review (a quality gate held a canvas of it), or failed."""
    rows, run_ids, published, in_review = [], [], 0, {}
    for chunk, flow_run in zip(chunks, finished, strict=True):
        run_id = _tracking_run_id(settings, flow_run)
        summary = repo.run_summary(database(settings.database_url()), run_id) if run_id else None
        statuses = _product_statuses(summary["products"]) if summary else {}
        done = [sku for sku in chunk if statuses.get(sku) == "done"]
        held = {sku: f"waiting for review in run {run_id} (adforge review {run_id})"
                for sku in chunk if statuses.get(sku) == "needs-review"}
        for sku in set(chunk) - set(done) - set(held):
            failed[sku] = f"chunk run {flow_run.name}: {flow_run.state_name}"
        published += len(done)
        in_review |= held
        run_ids.append(run_id)
        rows.append({"flow_run": flow_run.name, "run_id": run_id or "-",
                     "state": flow_run.state_name, "products": len(chunk), "done": len(done),
                     "in_review": len(held)})
    status = "completed" if not failed and not in_review else (
        "partial" if published or in_review else "failed")
    return {"run_id": run_ids[0] if run_ids else None, "run_ids": run_ids, "status": status,
            "chunks": rows, "products": published, "failed": failed, "in_review": in_review,
            "counts": {"published": published, "in_review": len(in_review),
                       "failed": len(failed)},
            "out_dir": str(settings.out_dir), "report": None, "contact_sheet": None}
