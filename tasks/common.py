"""What every stage task shares: the job record, retry policy, and small helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from prefect import unmapped
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from adforge.brief import BriefRow
from adforge.errors import StageError, TransientError
from adforge.imageio import decode_png
from adforge.stagecache import Manifest, RunConfig, load_blob


class ProductJob(BaseModel):
    """One product's way through the stages: its brief row plus each stage's manifest."""

    row: BriefRow
    cutout: Manifest | None = None
    background: Manifest | None = None
    composite: Manifest | None = None
    layout: Manifest | None = None
    text: Manifest | None = None
    renditions: dict[str, Manifest] = Field(default_factory=dict)

    @property
    def sku(self) -> str:
        return self.row.sku

    def need(self, stage: str) -> Manifest:
        """The manifest of an earlier stage (missing: the flow ran stages out of order)."""
        manifest = getattr(self, stage)
        if not isinstance(manifest, Manifest):
            raise StageError(f"{self.sku}: stage '{stage}' has not run yet")
        return manifest


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


def over_products(cfg: RunConfig,
                  items: list[ProductJob] | list[list[ProductJob]]) -> tuple[Any, list[Any]]:
    """Arguments for `task.map(...)` over products (or micro-batches of them). Quoted:
    they hold no futures, so Prefect need not walk these records looking for any (half
    the per-task overhead)."""
    return unmapped(quote(cfg)), [quote(item) for item in items]


def blob_image(cfg: RunConfig, manifest: Manifest, name: str) -> np.ndarray:
    return decode_png(load_blob(cfg, manifest.blobs[name]))


def read_source(image: Path | str) -> bytes:
    """The bytes of a product photo (local path)."""
    return Path(image).read_bytes()
