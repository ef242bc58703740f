"""Composite: each canvas's layers. The product is retouched toward the light of the
backdrop it finally stands on (its colour change bounded by a measured ΔE), placed by the
placement rule inside the platform's safe area, and composed with a contact and cast
shadow: background, shadow and product stay separate layers."""

from __future__ import annotations

import numpy as np

from adforge.imaging.composite import light_of, retouch_product
from adforge.imaging.renditions import compose_canvas
from adforge.specs import rendition_spec
from adforge.stagecache import RunConfig, StageOutput, run_cached
from adforge.stages.job import CanvasJob, Outcome, ProductJob, blob_image, each_canvas, layer_png


def composite_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Each product's job with a `composite` manifest on every canvas, or what failed it."""
    return each_canvas(composite_canvas, cfg, jobs)


def composite_canvas(cfg: RunConfig, job: ProductJob, canvas: CanvasJob) -> CanvasJob:
    cutout_made, background_made = job.need("cutout"), canvas.need("background", job.sku)
    settings = cfg.composite
    spec = rendition_spec(canvas.platform)
    light_x = cfg.brand.style(job.row.style).light

    def compute() -> StageOutput:
        # 1. The cutout and the backdrop it will stand on
        cutout = blob_image(cfg, cutout_made, "cutout")
        backdrop = blob_image(cfg, background_made, "background")
        # 2. Retouch toward this backdrop's light, within the ΔE bound
        retouched = retouch_product(cutout, light_of(backdrop), harmonise=settings.harmonise,
                                    max_delta_e=settings.max_delta_e,
                                    sharpen=settings.sharpen, contrast=settings.contrast)
        # 3. Place it inside the safe area and compose the layers
        layers = compose_canvas(spec, retouched.rgba, backdrop,
                                placement=settings.placement, light_x=light_x)
        return StageOutput(
            blobs={"product": layer_png(retouched.rgba),
                   "shadow": layer_png((layers.shadow * 255 + 0.5).astype(np.uint8)),
                   "composite": layer_png(layers.flatten())},
            meta={"delta_e": retouched.delta_e, "product_box": list(layers.product_box),
                  "light_x": light_x},
        )

    manifest = run_cached(cfg, stage="composite",
                          inputs={"cutout": cutout_made.key, "background": background_made.key},
                          params=settings.model_dump() | {"light_x": light_x,
                                                          "spec": spec.model_dump(mode="json")},
                          backend="imaging", compute=compute)
    return canvas.model_copy(update={"composite": manifest})
