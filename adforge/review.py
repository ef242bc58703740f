"""People's decisions on the review queue: approve a held canvas (it is then published
exactly as a passing one: files, the S3 delivery object, rows) or reject it with a
reason. Both are recorded (who, when, why), and the product's and the run's statuses
and the run's report follow. The CLI (`adforge approve|reject`) and a paused Prefect
run (`review: manual`) both come here.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from adforge.db import reviews
from adforge.db.reviews import Counts
from adforge.errors import AdForgeError, TransientError
from adforge.settings import S3Settings
from adforge.stagecache import RunConfig, database, store_for
from adforge.stages import publish
from adforge.stages.job import CanvasJob, ProductJob
from adforge.storage import AssetNotFoundError


def reviewer() -> str:
    """Who decides when nobody says: the operating-system user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return os.environ.get("USER") or "unknown"


def load_held(store: str, s3: S3Settings, home: Path, db_url: str, run_id: str,
              sku: str) -> tuple[RunConfig, ProductJob]:
    """A run's config and one product's manifests, as its publish stage kept them in
    the asset store `store`; the run's rows are in the tracking database `db_url`."""
    try:
        cfg, [job] = publish.load_run(store_for(store, s3, home), run_id, [sku], db_url)
    except (FileNotFoundError, AssetNotFoundError) as error:
        raise AdForgeError(f"product {sku} of run {run_id} is not in the asset store "
                           f"{store}: {error}") from error
    return cfg, job


def approve(cfg: RunConfig, job: ProductJob, platform: str, *, by: str,
            reason: str | None = None) -> bool:
    """Publish a held canvas as a passing one would be, then record the approval;
    False when it was approved already (nothing is published twice)."""
    canvas = _held_canvas(cfg, job, platform)
    status = _status(cfg, job.sku, platform)
    if status == "approved":
        return False
    if status != "pending":
        raise AdForgeError(f"{job.sku} {platform} of run {cfg.run_id} was {status}: a "
                           "decision is final")
    publish.deliver(cfg, job, [canvas])
    reviews.decide(database(cfg.db_url), cfg.run_id, job.sku, platform, "approved", by=by,
                   reason=reason)
    folder = publish.review_folder(cfg, job.sku)
    for name in (publish.ad_file_name(job, canvas), f"{platform}.layout.json",
                 f"{platform}.gates.json"):
        (folder / name).unlink(missing_ok=True)
    return True


def reject(cfg: RunConfig, job: ProductJob, platform: str, *, by: str,
           reason: str) -> bool:
    """Drop a held canvas, with the reason recorded; its review files stay as the record
    of what was refused. False when it was rejected already."""
    _held_canvas(cfg, job, platform)
    if not reason.strip():
        raise AdForgeError("say why the canvas is rejected: --reason '...'")
    return reviews.decide(database(cfg.db_url), cfg.run_id, job.sku, platform, "rejected",
                          by=by, reason=reason)


def settle(cfg: RunConfig, skus: list[str]) -> Counts:
    """After decisions: each product's status, the run's status, and its report (the
    uploaded copy too, while S3 can be reached)."""
    db = database(cfg.db_url)
    for sku in dict.fromkeys(skus):
        reviews.settle_product(db, cfg.run_id, sku)
    counts = reviews.settle_run(db, cfg.run_id)
    publish.write_report(cfg)
    try:
        publish.upload_report(cfg)
    except TransientError:
        pass  # the local report is current; the uploaded one follows with the next run
    return counts


def _held_canvas(cfg: RunConfig, job: ProductJob, platform: str) -> CanvasJob:
    canvas = job.all_canvases().get(platform)
    if canvas is None:
        raise AdForgeError(f"{job.sku} has no {platform} canvas in run {cfg.run_id}; its "
                           f"canvases: {', '.join(job.all_canvases())}")
    return canvas


def _status(cfg: RunConfig, sku: str, platform: str) -> str:
    found = reviews.items(database(cfg.db_url), run_id=cfg.run_id, sku=sku,
                          platform=platform, status=None)
    if not found:
        raise AdForgeError(f"{sku} {platform} of run {cfg.run_id} is not in the review "
                           "queue; `adforge review` lists what is")
    return str(found[0]["status"])
