"""The renditions flow: add or refresh canvases of a finished run, for more platforms.

It starts from what the run stored: each product's cutout and canvases. By default the
new canvases are made as the run made its own, with the run's profile (a neural run's
models then need the GPU pool); with `mode="recompose"` no model runs: each new canvas
takes the product's nearest stored backdrop, cover-fitted, with the classic layout and
typesetting (the CPU pool). Canvases already in the store are cache hits.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from adforge.db import repository as repo
from adforge.settings import load_settings
from adforge.specs import rendition_spec
from adforge.stagecache import RunConfig, database, store_for
from adforge.stages import publish
from flows.stage_runs import CANVAS_STAGES, run_stages

Mode = Literal["profile", "recompose"]


@flow(name="renditions", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def renditions(
    platforms: list[str],
    run_id: str | None = None,
    brand: str | None = None,
    db_url: str | None = None,
    store: str | None = None,
    mode: Mode = "profile",
) -> dict[str, Any]:
    """Add `platforms` to run `run_id` (default: the latest run, of `brand` if given)."""
    # 1. Find the run and the products it finished
    settings = load_settings(db_url=db_url, store=store)
    db = database(settings.database_url())
    for name in platforms:
        rendition_spec(name)  # fail early on an unknown platform, naming it
    run_id = run_id or repo.latest_run_id(db, brand=brand)
    if run_id is None:
        raise ValueError("no finished run to re-compose; run a campaign first")
    skus = [p["sku"] for p in repo.run_summary(db, run_id)["products"] if p["status"] == "done"]
    # 2. Load what the run stored for each product: its cutout and canvases
    cfg, jobs = publish.load_run(
        store_for(settings.store_spec(), settings.s3, settings.home), run_id, skus)
    cfg = for_mode(cfg, mode)
    get_run_logger().info("run %s: %s canvases for %d products (%s)", run_id, platforms,
                          len(jobs), mode)
    # 3. The new canvases, stage by stage, then published under the same run
    failed: dict[str, str] = {}
    published = run_stages(cfg, [job.adding(platforms) for job in jobs], CANVAS_STAGES,
                           failed)
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
