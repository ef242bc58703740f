"""Segment: cut each product out of its photo, once per product.

A segmenter that batches (BiRefNet) sees every photo of the batch whose cutout is not
stored yet in one call; a photo that already has an alpha channel is its own cutout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adforge.db import repository as repo
from adforge.errors import ImageInputError
from adforge.imageio import LoadedImage, load_image
from adforge.imaging.matte import crop_to_alpha
from adforge.sources import read_source
from adforge.stagecache import RunConfig, StageOutput, database, is_stored, run_cached
from adforge.stages.job import (
    Outcome,
    ProductJob,
    attempt,
    batch_call,
    first_error,
    layer_png,
)
from adforge.storage import sha256_bytes


def segment_products(cfg: RunConfig, jobs: list[ProductJob], segmenter: Any) -> list[Outcome]:
    """Each product's job with its `cutout` manifest, or what failed it."""
    # 1. Read every photo (a missing one fails its product alone)
    photos = [attempt(read_photo, cfg, job) for job in jobs]
    decoded: dict[int, LoadedImage | Exception] = {}
    cuts: dict[int, Any] = {}
    if segmenter.batches:
        # 2. Decode the photos whose cutout is not stored yet
        decoded = {index: attempt(decode_photo, cfg, job, data)
                   for index, (job, data) in enumerate(zip(jobs, photos, strict=True))
                   if isinstance(data, bytes)
                   and not is_stored(cfg, **segment_key(cfg, data, segmenter))}
        # 3. One model call over those without an alpha channel of their own
        to_cut = [index for index, image in decoded.items()
                  if isinstance(image, LoadedImage) and image.alpha is None]
        images = [decoded[index].rgb for index in to_cut]  # type: ignore[union-attr]
        cuts = dict(zip(to_cut, batch_call(segmenter.segment_batch, images), strict=True))
    # 4. Store each cutout (computed here when the segmenter does not batch)
    outcomes: list[Outcome] = []
    for index, (job, data) in enumerate(zip(jobs, photos, strict=True)):
        error = first_error(data, decoded.get(index), cuts.get(index))
        outcomes.append(error or attempt(store_cutout, cfg, job, data, segmenter,
                                         decoded.get(index), cuts.get(index)))
    return outcomes


def read_photo(cfg: RunConfig, job: ProductJob) -> bytes:
    """The photo's bytes, from a local path or an s3:// URI (S3 faults are transient)."""
    try:
        return read_source(job.row.image, cfg.s3, max_bytes=cfg.images.max_bytes)
    except FileNotFoundError:
        raise ImageInputError(f"{job.sku}: image {job.row.image} does not exist; fix the "
                              "'image' column or add the file", item=job.sku,
                              field="image") from None


def decode_photo(cfg: RunConfig, job: ProductJob, data: bytes) -> LoadedImage:
    return load_image(data, name=f"{job.sku} ({job.row.image})", **cfg.images.decoding())


def segment_key(cfg: RunConfig, data: bytes, segmenter: Any) -> dict[str, Any]:
    return {"stage": "segment", "inputs": {"photo": sha256_bytes(data)},
            # max_bytes only guards reading: it changes no cutout, so no key
            "params": cfg.images.model_dump(include={"max_pixels", "min_side", "max_side"}),
            "backend": segmenter.cache_key}


def store_cutout(cfg: RunConfig, job: ProductJob, data: bytes, segmenter: Any,
                 loaded: LoadedImage | None, cut: Any) -> ProductJob:
    """The product's cutout, cropped to its alpha, stored once per photo and segmenter; a
    cutout less sure than `segment.min_confidence` is recorded as a warning."""
    def compute() -> StageOutput:
        image = loaded or decode_photo(cfg, job, data)
        if image.alpha is not None:
            rgba = np.dstack([image.rgb, (image.alpha * 255 + 0.5).astype(np.uint8)])
            confidence, warnings = 1.0, ["used the photo's own alpha channel as the cutout"]
        else:
            result = cut or segmenter.segment(image.rgb)
            rgba, confidence, warnings = result.rgba, result.confidence, result.warnings
        return StageOutput(blobs={"cutout": layer_png(crop_to_alpha(rgba))},
                           meta={"confidence": confidence, "warnings": warnings,
                                 "notes": image.notes})

    manifest = run_cached(cfg, **segment_key(cfg, data, segmenter), compute=compute)
    if manifest.meta["confidence"] < cfg.segment.min_confidence:
        repo.record_error(database(cfg.db_url), cfg.run_id, job.sku, "segment", "warning",
                          "; ".join(manifest.meta["warnings"]), field="image")
    return job.model_copy(update={"cutout": manifest})
