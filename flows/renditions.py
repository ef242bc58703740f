"""The renditions flow: re-compose a finished run's masters for more platforms.

It starts from the stored layers and layout of each product, so no model runs: new
platform sizes cost only compositing and typesetting.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, unmapped
from prefect.task_runners import ThreadPoolTaskRunner

from adforge.db import repository as repo
from adforge.settings import load_settings
from adforge.specs import rendition_spec
from adforge.stagecache import database, store_for
from adforge.stages import publish
from tasks import stages
from tasks.common import over_batches


@flow(name="renditions", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def renditions(
    platforms: list[str],
    run_id: str | None = None,
    brand: str | None = None,
    db_url: str | None = None,
    store: str | None = None,
) -> dict[str, Any]:
    """Add `platforms` to run `run_id` (default: the latest run, of `brand` if given)."""
    logger = get_run_logger()
    # 1. Find the run and the products it finished
    settings = load_settings(db_url=db_url, store=store)
    db = database(settings.database_url())
    for name in platforms:
        rendition_spec(name)  # fail early on an unknown platform, naming it
    run_id = run_id or repo.latest_run_id(db, brand=brand)
    if run_id is None:
        raise ValueError("no finished run to re-compose; run a campaign first")
    skus = [p["sku"] for p in repo.run_summary(db, run_id)["products"] if p["status"] == "done"]
    # 2. Load the stored references (layers, layout inputs) of each product
    cfg, jobs = publish.load_run(
        store_for(settings.store_spec(), settings.s3, settings.home), run_id, skus)
    logger.info("re-composing %d products of run %s for %s", len(jobs), run_id, platforms)
    # 3. Re-compose every platform from the layers (no model runs), one task per product
    batches = [[job] for job in jobs]
    futures = stages.renditions_batch.map(*over_batches(cfg, batches), unmapped(platforms))
    jobs = [outcome for future in futures for outcome in future.result()]
    # 4. Publish files and rows under the same run
    futures = stages.publish_batch.map(*over_batches(cfg, [[job] for job in jobs]))
    published = [outcome for future in futures for outcome in future.result()]
    publish.write_report(cfg)
    uris = {job.sku: {platform: str(path) for platform, path in
                      publish.delivered_files(cfg, job).items()} for job in published}
    return {"run_id": run_id, "products": len(uris), "platforms": platforms, "uris": uris}
