"""What every stage shares: a product's record between stages, per-product outcomes
inside a batch, and how stage images are encoded and read back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from adforge.brief import BriefRow
from adforge.errors import StageError
from adforge.imageio import decode_png, encode_png
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


Outcome = ProductJob | Exception  # one product's result inside a batch


def attempt(work: Callable[..., Any], *args: Any) -> Any:
    """One product's step inside a batch: its failure is returned as its own outcome, so
    the other products of the batch still do their work."""
    try:
        return work(*args)
    except Exception as error:  # noqa: BLE001 - recorded against this product only
        return error


def each(work: Callable[..., ProductJob], cfg: RunConfig, jobs: list[ProductJob],
         *args: Any) -> list[Outcome]:
    """`work(cfg, job, *args)` for every product of a batch, each failure its own."""
    return [attempt(work, cfg, job, *args) for job in jobs]


def batch_call(method: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[Any]:
    """A backend's batch method over `items`; if it fails, every item fails with it."""
    if not items:
        return []
    outcome = attempt(method, items)
    return outcome if isinstance(outcome, list) else [outcome] * len(items)


def first_error(*outcomes: Any) -> Exception | None:
    return next((item for item in outcomes if isinstance(item, Exception)), None)


def ad_png(array: np.ndarray) -> tuple[bytes, str]:
    """A deliverable (an ad): compressed PNG."""
    return encode_png(array, level=1), "png"


def layer_png(array: np.ndarray) -> tuple[bytes, str]:
    """A working layer, read back by later stages: uncompressed PNG, ten times faster."""
    return encode_png(array, level=0), "png"


def blob_image(cfg: RunConfig, manifest: Manifest, name: str) -> np.ndarray:
    return decode_png(load_blob(cfg, manifest.blobs[name]))
