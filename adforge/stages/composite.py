"""Composite: retouch the product toward the backdrop's light and compose the layered
master (background, shadow, product), measuring the product's colour change (ΔE)."""

from __future__ import annotations

import numpy as np

from adforge.imaging.composite import compose_layers, light_of, place_product, retouch_product
from adforge.stagecache import RunConfig, StageOutput, run_cached
from adforge.stages.job import Outcome, ProductJob, blob_image, each, layer_png


def composite_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Each product's job with its `composite` manifest, or what failed it."""
    return each(composite_product, cfg, jobs)


def composite_product(cfg: RunConfig, job: ProductJob) -> ProductJob:
    cutout_made, background_made = job.need("cutout"), job.need("background")
    settings = cfg.composite
    light_x = cfg.brand.style(job.row.style).light

    def compute() -> StageOutput:
        # 1. The cutout and the backdrop it will stand on
        cutout = blob_image(cfg, cutout_made, "cutout")
        backdrop = blob_image(cfg, background_made, "background")
        # 2. Retouch toward the backdrop's light, within the ΔE bound
        retouched = retouch_product(cutout, light_of(backdrop), harmonise=settings.harmonise,
                                    max_delta_e=settings.max_delta_e,
                                    sharpen=settings.sharpen, contrast=settings.contrast)
        # 3. Place it by the rule and compose the layers
        h, w = retouched.rgba.shape[:2]
        box = place_product((w, h), (backdrop.shape[1], backdrop.shape[0]), settings.placement)
        layers = compose_layers(retouched.rgba, backdrop, box, light_x=light_x)
        return StageOutput(
            blobs={"product": layer_png(retouched.rgba),
                   "shadow": layer_png((layers.shadow * 255 + 0.5).astype(np.uint8)),
                   "composite": layer_png(layers.flatten())},
            meta={"delta_e": retouched.delta_e, "product_box": list(layers.product_box),
                  "light_x": light_x},
        )

    manifest = run_cached(cfg, stage="composite",
                          inputs={"cutout": cutout_made.key, "background": background_made.key},
                          params=settings.model_dump() | {"light_x": light_x},
                          backend="imaging", compute=compute)
    return job.model_copy(update={"composite": manifest})
