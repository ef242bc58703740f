"""The renditions flow: add or refresh canvases of a finished run, for more platforms.

It starts from what the run stored: each product's cutout and canvases. By default
(`mode="profile"`) the new canvases are made as the run made its own, with the run's
profile; with `mode="recompose"` no model runs: each new canvas takes the product's
nearest stored backdrop, cover-fitted, with the classic layout and typesetting.
Canvases already in the store are cache hits.

Where it runs. The people-facing deployments (`renditions/instagram`, `renditions/blog`)
sit on the CPU pool: a classic run and every recompose need nothing else. A run whose
canvases need models (a neural profile, `mode="profile"`) started there is handed,
with the same parameters, to the `renditions/gpu` deployment of this same flow on the
GPU pool (`run_deployment`, linked as its subflow), and the CPU run waits for it and
returns its result (kept in Prefect's result storage for that). A run already on the
GPU pool, called directly, or served without pools (`adforge serve`) does the work
itself.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from adforge.db import repository as repo
from adforge.db import reviews
from adforge.profiles import profile_named
from adforge.settings import load_settings
from adforge.specs import rendition_spec
from adforge.stagecache import RunConfig, database, store_for
from adforge.stages import publish
from flows.run_start import with_database_secret
from flows.stage_runs import CANVAS_STAGES, run_stages

Mode = Literal["profile", "recompose"]
GPU_DEPLOYMENT = "renditions/gpu"  # this flow on the GPU pool (deployments/prefect.yaml)
NO_MODEL = profile_named("classic").backends  # the backends that run no model


@flow(name="renditions", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=2),
      persist_result=True, result_serializer="json")
def renditions(
    platforms: list[str],
    run_id: str | None = None,
    brand: str | None = None,
    store: str | None = None,
    mode: Mode = "profile",
) -> dict[str, Any]:
    """Add `platforms` to run `run_id` (default: the latest run, of `brand` if given).

    The tracking database is the worker's own (`ADFORGE_DB_URL` in its environment, or
    the Prefect Secret block `ADFORGE_DB_SECRET_BLOCK` names): a connection string may
    hold a password, so it is never a parameter."""
    # 1. Find the run and the products it finished (published, or waiting for review)
    settings = with_database_secret(load_settings(store=store))
    db = database(settings.database_url())
    for name in platforms:
        rendition_spec(name)  # fail early on an unknown platform, naming it
    run_id = run_id or repo.latest_run_id(db, brand=brand)
    if run_id is None:
        raise ValueError("no finished run to re-compose; run a campaign first")
    skus = [p["sku"] for p in repo.run_summary(db, run_id)["products"]
            if p["status"] in ("done", "needs-review")]  # published, or some canvas held
    # 2. Load what the run stored for each product: its cutout and canvases
    cfg, jobs = publish.load_run(store_for(settings.store_spec(), settings.s3, settings.home),
                                 run_id, skus, settings.database_url())
    cfg = for_mode(cfg, mode)
    # 3. Canvases that need models, asked for off the GPU pool: the GPU pool makes them
    if runs_models(cfg) and off_the_gpu_pool():
        return hand_to_gpu_pool({"platforms": platforms, "run_id": run_id, "brand": brand,
                                 "store": store, "mode": mode})
    get_run_logger().info("run %s: %s canvases for %d products (%s)", run_id, platforms,
                          len(jobs), mode)
    # 4. The new canvases, stage by stage, then published under the same run
    failed: dict[str, str] = {}
    published = run_stages(cfg, [job.adding(platforms) for job in jobs], CANVAS_STAGES,
                           failed)
    reviews.settle_run(db, run_id)  # a new canvas may wait for review
    publish.write_report(cfg)
    uris = {job.sku: {platform: str(path) for platform, path in
                      publish.delivered_files(cfg, job).items()} for job in published}
    return {"run_id": run_id, "products": len(uris), "platforms": platforms, "mode": mode,
            "uris": uris, "failed": failed}


def for_mode(cfg: RunConfig, mode: Mode) -> RunConfig:
    """The run's config as this flow makes canvases: unchanged with the run's profile;
    recomposing, no model: stored backdrops, the classic layout, typesetting."""
    if mode == "profile":
        return cfg
    backends = cfg.backends.model_copy(update={"layout": "classic", "text": "typeset"})
    return cfg.model_copy(update={"backends": backends, "recompose": True,
                                  "text_mode": "typeset"})


def runs_models(cfg: RunConfig) -> bool:
    """Whether making canvases with `cfg` runs a model: a canvas stage on a backend the
    classic profile does not use (recomposing, the backdrop is cover-fitted: no model)."""
    stages = ("layout", "text") if cfg.recompose else ("background", "layout", "text")
    return any(getattr(cfg.backends, stage) != getattr(NO_MODEL, stage) for stage in stages)


def off_the_gpu_pool() -> bool:
    """Whether this flow run came from a work pool other than `GPU_DEPLOYMENT`'s. A run
    with no pool (called directly, or served) works where it is, and so does every run
    where that deployment does not exist."""
    with get_client(sync_client=True) as client:
        pool = client.read_flow_run(flow_run.get_id()).work_pool_name
        if pool is None:
            return False
        try:
            gpu_pool = client.read_deployment_by_name(GPU_DEPLOYMENT).work_pool_name
        except ObjectNotFound:
            get_run_logger().warning("no deployment %s: the models run on %s",
                                     GPU_DEPLOYMENT, pool)
            return False
    return pool != gpu_pool


def hand_to_gpu_pool(parameters: dict[str, Any]) -> dict[str, Any]:
    """Run `GPU_DEPLOYMENT` with these parameters, wait for it, and return its result
    (its failure fails this run too)."""
    get_run_logger().info("run %s needs models: handed to %s", parameters["run_id"],
                          GPU_DEPLOYMENT)
    finished = run_deployment(GPU_DEPLOYMENT, parameters=parameters, timeout=None,
                              poll_interval=2)
    return finished.state.result()
