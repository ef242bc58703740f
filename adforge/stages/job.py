"""What every stage shares: a product's record between stages, per-product outcomes
inside a batch, and how stage images are encoded and read back."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from adforge.brief import BriefRow
from adforge.errors import StageError
from adforge.gates import GateRecord
from adforge.imageio import decode_png, encode_png
from adforge.stagecache import Manifest, RunConfig, load_blob


class CanvasJob(BaseModel):
    """One canvas, the unit of work after segmentation: a product at one platform's
    size, with each of its stages' manifests."""

    platform: str
    background: Manifest | None = None
    composite: Manifest | None = None
    layout: Manifest | None = None
    text: Manifest | None = None
    gate: GateRecord | None = Field(default=None, description="the quality gates' verdict "
                                    "and every attempt at the canvas (adforge.stages.gate)")

    def need(self, stage: str, sku: str = "") -> Manifest:
        """The manifest of an earlier stage (missing: the flow ran stages out of order)."""
        manifest = getattr(self, stage)
        if not isinstance(manifest, Manifest):
            raise StageError(f"{sku} {self.platform}: stage '{stage}' has not run yet")
        return manifest


class ProductJob(BaseModel):
    """One product's way through the stages: its brief row, its cutout, its canvases."""

    row: BriefRow
    cutout: Manifest | None = None
    canvases: dict[str, CanvasJob] = Field(default_factory=dict,
                                           description="the canvases this run makes")
    finished: dict[str, CanvasJob] = Field(
        default_factory=dict, description="canvases an earlier run made, kept as they are "
                                          "while this run adds others (renditions flow)")

    @classmethod
    def for_platforms(cls, row: BriefRow, platforms: list[str]) -> ProductJob:
        """A new product with a canvas per platform: the row's own `platforms`, else
        the run's."""
        chosen = row.platforms or platforms
        return cls(row=row, canvases={name: CanvasJob(platform=name) for name in chosen})

    @property
    def sku(self) -> str:
        """The record key every stage, file and database row uses: the SKU, or
        `<sku>/<variant id>` for one of a product's several variants."""
        return self.row.key

    def need(self, stage: str) -> Manifest:
        """The manifest of an earlier per-product stage (the cutout)."""
        manifest = getattr(self, stage)
        if not isinstance(manifest, Manifest):
            raise StageError(f"{self.sku}: stage '{stage}' has not run yet")
        return manifest

    def with_canvases(self, canvases: list[CanvasJob]) -> ProductJob:
        return self.model_copy(update={"canvases": self.canvases | {
            canvas.platform: canvas for canvas in canvases}})

    def adding(self, platforms: list[str]) -> ProductJob:
        """This finished product, to make (again) the canvases of `platforms`; the others
        stay as they are."""
        every = self.finished | self.canvases
        return self.model_copy(update={
            "canvases": {name: CanvasJob(platform=name) for name in platforms},
            "finished": {name: canvas for name, canvas in every.items()
                         if name not in platforms}})

    def all_canvases(self) -> dict[str, CanvasJob]:
        """Every canvas of the product: those made earlier and those made now."""
        return self.finished | self.canvases


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


def each_canvas(work: Callable[..., CanvasJob], cfg: RunConfig, jobs: list[ProductJob],
                *args: Any) -> list[Outcome]:
    """`work(cfg, job, canvas, *args)` for every canvas of every product of a batch; a
    product whose canvas fails fails with that canvas's error (its other canvases are
    still made, and stored for a re-run)."""
    return [product_outcome(job, [attempt(work, cfg, job, canvas, *args)
                                  for canvas in job.canvases.values()]) for job in jobs]


def product_outcome(job: ProductJob, made: list[Any]) -> Outcome:
    """A product's outcome from its canvases' outcomes: the first error, else the job
    with the new canvases."""
    return first_error(*made) or job.with_canvases(made)


def batch_call(method: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[Any]:
    """A backend's batch method over `items`; if it fails, every item fails with it."""
    if not items:
        return []
    outcome = attempt(method, items)
    return outcome if isinstance(outcome, list) else [outcome] * len(items)


def first_error(*outcomes: Any) -> Exception | None:
    return next((item for item in outcomes if isinstance(item, Exception)), None)


def layer_png(array: np.ndarray) -> tuple[bytes, str]:
    """A layer a person may open (the cutout): uncompressed PNG, ten times faster."""
    return encode_png(array, level=0), "png"


def layer_array(array: np.ndarray) -> tuple[bytes, str]:
    """A working layer only later stages read (a canvas's backdrop, composite, shadow,
    retouched product): the raw array in NumPy's format, written and read back about ten
    times faster than even an uncompressed PNG (no row filtering, no checksums)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue(), "npy"


def blob_image(cfg: RunConfig, manifest: Manifest, name: str) -> np.ndarray:
    """A stored image blob, decoded by its kind (a PNG, or a NumPy array)."""
    key = manifest.blobs[name]
    data = load_blob(cfg, key)
    if key.endswith(".npy"):
        return np.load(io.BytesIO(data), allow_pickle=False)
    return decode_png(data)
