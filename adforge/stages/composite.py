"""Composite: each canvas's layers. The product is retouched toward the light of the
backdrop it finally stands on (its colour change bounded by a measured ΔE), placed by the
placement rule inside the platform's safe area, and composed with a contact and cast
shadow: background, shadow and product stay separate layers (the shadow stored over the
region it can darken, `meta.shadow_box`; zero elsewhere)."""

from __future__ import annotations

import cv2
import numpy as np

from adforge.imaging.composite import light_of, retouch_product
from adforge.imaging.renditions import compose_canvas
from adforge.specs import PixelBox, rendition_spec
from adforge.stagecache import Manifest, RunConfig, StageOutput, run_cached
from adforge.stages.job import CanvasJob, Outcome, ProductJob, blob_image, each_canvas, layer_array


def composite_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """Each product's job with a `composite` manifest on every canvas, or what failed it."""
    return each_canvas(composite_canvas, cfg, jobs)


def composite_canvas(cfg: RunConfig, job: ProductJob, canvas: CanvasJob) -> CanvasJob:
    cutout_made, background_made = job.need("cutout"), canvas.need("background", job.sku)
    settings = cfg.composite
    spec = rendition_spec(canvas.platform)
    light_x = cfg.brand.style(job.row.style).light

    def compute() -> StageOutput:
        # 1. The backdrop, and the product retouched toward its light
        backdrop = blob_image(cfg, background_made, "background")
        retouched = retouch(cfg, cutout_made, light_of(backdrop))
        product = blob_image(cfg, retouched, "product")
        # 2. Placed inside the safe area, with its shadow: the layers
        layers = compose_canvas(spec, product, backdrop, placement=settings.placement,
                                light_x=light_x)
        shadow_box = layers.region or PixelBox(0, 0, spec.width, spec.height)
        return StageOutput(
            blobs={"shadow": layer_array(shadow_layer(layers.shadow, shadow_box)),
                   "composite": layer_array(layers.flatten())},
            stored={"product": retouched.blobs["product"]},
            meta={"delta_e": retouched.meta["delta_e"], "light_x": light_x,
                  "product_box": list(layers.product_box), "shadow_box": list(shadow_box)},
        )

    manifest = run_cached(cfg, stage="composite",
                          inputs={"cutout": cutout_made.key, "background": background_made.key},
                          params=settings.model_dump() | {"light_x": light_x,
                                                          "spec": spec.model_dump(mode="json")},
                          backend="imaging", compute=compute)
    return canvas.model_copy(update={"composite": manifest})


def shadow_layer(shadow: np.ndarray, box: PixelBox) -> np.ndarray:
    """The shadow (0..1 darkening) as 8-bit, over its box only."""
    return (shadow[box.y0:box.y1, box.x0:box.x1] * 255 + 0.5).astype(np.uint8)


LIGHT_STEP = 8  # the retouch sees a backdrop's light in steps of 8 levels per channel
DRAFT_CUTOUT_SIDE = 384  # a draft retouches the cutout at most this size (its canvas: 512)


def retouch(cfg: RunConfig, cutout_made: Manifest, light: np.ndarray) -> Manifest:
    """The cutout harmonised to a light, sharpened and toned within the ΔE bound: made
    once per product and light. The light is rounded to steps of `LIGHT_STEP` levels, so
    the canvases of one style share one retouch (their backdrops' lights differ by a few
    levels; half a step moves the product's colour cast by well under 1 ΔE)."""
    settings = cfg.composite
    light_8bit = [min(255, LIGHT_STEP * round(float(value) / LIGHT_STEP))
                  for value in np.clip(light, 0, 255)]

    draft_side = {"max_side": DRAFT_CUTOUT_SIDE} if cfg.draft else {}

    def compute() -> StageOutput:
        made = retouch_product(_at_most(blob_image(cfg, cutout_made, "cutout"), draft_side),
                               np.asarray(light_8bit, np.float32),
                               harmonise=settings.harmonise, max_delta_e=settings.max_delta_e,
                               sharpen=settings.sharpen, contrast=settings.contrast)
        return StageOutput(blobs={"product": layer_array(made.rgba)},
                           meta={"delta_e": made.delta_e, "light": light_8bit})

    return run_cached(cfg, stage="retouch", inputs={"cutout": cutout_made.key},
                      params={"light": light_8bit, "harmonise": settings.harmonise,
                              "max_delta_e": settings.max_delta_e,
                              "sharpen": settings.sharpen, "contrast": settings.contrast}
                      | draft_side, backend="imaging", compute=compute)


def _at_most(cutout: np.ndarray, limit: dict[str, int]) -> np.ndarray:
    """The cutout, shrunk to `limit["max_side"]` when given (a draft's small canvas
    shows the product at a fraction of its photo's size: retouching every pixel of the
    photo would be most of the draft's cost)."""
    side = limit.get("max_side")
    height, width = cutout.shape[:2]
    if side is None or max(height, width) <= side:
        return cutout
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(cutout, size, interpolation=cv2.INTER_AREA)
