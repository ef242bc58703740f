"""What the campaign flow does about crashes and outages (see README "S3 and PostgreSQL").

- Before a run: remove the temporary files a killed run left (their writer is gone) and
  upload what an S3 store's spool still holds from a run that could not reach S3.
- A product that failed on a transient fault (S3 or the database unreachable after every
  retry) is recorded as kind `transient`, status `failed-retryable`: its stage outputs
  stay in the store or the local spool, and the next run of the brief finishes it.
"""

from __future__ import annotations

from adforge.db.repository import ProductStatus
from adforge.errors import InputError, TransientError
from adforge.recovery import sweep_stale_temp_files
from adforge.stagecache import RunConfig, store
from adforge.stages import publish
from tasks.common import run_logger


def failure_kind(error: BaseException) -> tuple[str, ProductStatus]:
    """(error kind, product status) for a product's failure."""
    if isinstance(error, TransientError):
        return "transient", "failed-retryable"
    if isinstance(error, InputError):
        return "input", "failed"
    return "stage", "failed"


def recover_before_run(cfg: RunConfig) -> None:
    """Sweep stale temporary files; upload an S3 spool left by an earlier run."""
    logger = run_logger("adforge.resilience")
    assets = store(cfg)
    removed = sweep_stale_temp_files([cfg.out_dir, cfg.home / "cache", *assets.local_folders()])
    if removed:
        logger.info("removed %d temporary file(s) left by a killed run", len(removed))
    try:
        uploaded = assets.flush_pending()
    except TransientError as exc:
        logger.warning("S3 still unreachable, work goes on from the local spool: %s", exc)
        return
    if uploaded:
        logger.info("uploaded %d object(s) an earlier run had kept in the spool", uploaded)


def try_upload_report(cfg: RunConfig) -> str | None:
    """The report's presigned link (S3 store), or None (local store, or S3 unreachable)."""
    try:
        url = publish.upload_report(cfg)
    except TransientError as exc:
        run_logger("adforge.resilience").warning("report not uploaded (S3 unreachable): %s", exc)
        return None
    if url:
        run_logger("adforge.resilience").info("report: %s", url.split("?", 1)[0] + "?<signed>")
    return url
