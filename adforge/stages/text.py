"""Text: the copy set on the master exactly as the brief says (a neural edit is verified
inside the product's matte, and falls back to typesetting)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from adforge.specs import LayoutSpec, PixelBox
from adforge.stagecache import Manifest, RunConfig, StageOutput, run_cached
from adforge.stages.job import Outcome, ProductJob, ad_png, blob_image, each


def text_products(cfg: RunConfig, jobs: list[ProductJob], renderer: Any) -> list[Outcome]:
    """Each product's job with its `text` manifest, or what failed it."""
    return each(text_product, cfg, jobs, renderer)


def text_product(cfg: RunConfig, job: ProductJob, renderer: Any) -> ProductJob:
    composite_made, layout_made = job.need("composite"), job.need("layout")
    spec = LayoutSpec.model_validate(layout_made.meta["layout"])

    def compute() -> StageOutput:
        image = blob_image(cfg, composite_made, "composite")
        extra = {}
        if renderer.needs_product_mask:  # it verifies edits inside the product's matte
            extra["product_mask"] = product_mask(cfg, composite_made, image.shape[:2])
        result = renderer.render(image, spec, job.row.copy, cfg.brand, **extra)
        return StageOutput(blobs={"master": ad_png(result.image)},
                           meta={"fonts": sorted({f.font for f in result.fits}),
                                 "ellipsized": any(f.ellipsized for f in result.fits),
                                 "attempts": result.attempts})

    manifest = run_cached(cfg, stage="text",
                          inputs={"composite": composite_made.key, "layout": layout_made.key,
                                  "copy": job.row.copy.model_dump(),
                                  "brand": cfg.brand.model_dump(mode="json")},
                          params={"min_font_px": cfg.min_font_px}, backend=renderer.cache_key,
                          compute=compute)
    return job.model_copy(update={"text": manifest})


def product_mask(cfg: RunConfig, composite_made: Manifest,
                 shape: tuple[int, int]) -> np.ndarray:
    """Where the product is on the master (alpha >= 0.5): a text edit must not touch it."""
    alpha = blob_image(cfg, composite_made, "product")[..., 3]
    box = PixelBox(*composite_made.meta["product_box"])
    placed = cv2.resize(alpha, (box.width, box.height), interpolation=cv2.INTER_AREA)
    mask = np.zeros(shape, bool)
    mask[box.y0:box.y1, box.x0:box.x1] = placed >= 128
    return mask
