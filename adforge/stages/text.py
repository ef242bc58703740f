"""Text: the copy set on each canvas exactly as the brief says, then the logo.

The run's text renderer is the edit model (Qwen-Image-Edit, its edits verified inside
the product's matte and by OCR where the language allows, falling back to typesetting on
that canvas) or typesetting with the brand's fonts; a row's `text_mode` (else the kit's,
else the run's) chooses per product. The finished canvas is the delivered ad: its
quality is measured (what the gates of `adforge.gates` judge: the copy, its contrast and
place, and how the product came through against its cutout), a thumbnail stored for the
contact sheet, and what made each of its parts recorded (`backends`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from adforge.brief import resolve_text_mode
from adforge.formats import DeliveryFormat, Encoded, delivery_format, encode_delivery
from adforge.imaging.contact_sheet import CELL, thumbnail
from adforge.imaging.matte import crop_to_alpha
from adforge.imaging.metrics import product_region_checks
from adforge.imaging.renditions import finish_canvas
from adforge.imaging.retouch import ANY_COVERAGE, RETOUCH_PAD
from adforge.specs import LayoutSpec, PixelBox, rendition_spec
from adforge.stagecache import Manifest, RunConfig, StageOutput, run_cached
from adforge.stages.job import (
    CanvasJob,
    Outcome,
    ProductJob,
    blob_image,
    each_canvas,
    layer_png,
)

MEASURES = 2  # in the stage's key: a text manifest measured before the gates is remade


def text_products(cfg: RunConfig, jobs: list[ProductJob], renderers: dict[str, Any]
                  ) -> list[Outcome]:
    """Each product's job with a `text` manifest (the finished ad) on every canvas, or
    what failed it. renderers: text mode (`edit`, `typeset`) -> renderer."""
    return each_canvas(text_canvas, cfg, jobs, renderers)


def text_mode_of(cfg: RunConfig, job: ProductJob) -> str:
    """The canvas's text mode: typesetting for a draft, else as the row, kit or run say."""
    if cfg.draft:
        return "typeset"
    return resolve_text_mode(job.row.text_mode, cfg.brand.text_mode, cfg.text_mode)


def text_canvas(cfg: RunConfig, job: ProductJob, canvas: CanvasJob,
                renderers: dict[str, Any]) -> CanvasJob:
    composite_made = canvas.need("composite", job.sku)
    layout_made = canvas.need("layout", job.sku)
    renderer = renderers[text_mode_of(cfg, job)]
    spec = rendition_spec(canvas.platform)
    layout = LayoutSpec.model_validate(layout_made.meta["layout"])
    chosen = delivery_format(canvas.platform, cfg.brand.delivery, job.row.formats,
                             max_bytes=cfg.quality.max_bytes)

    def compute() -> StageOutput:
        # 1. The copy on the composed canvas (an edit is checked inside the product)
        image = blob_image(cfg, composite_made, "composite")
        box = PixelBox(*composite_made.meta["product_box"])
        extra = {"product_mask": product_mask(cfg, composite_made, image.shape[:2])} \
            if renderer.needs_product_mask else {}
        result = renderer.render(image, layout, job.row.copy, cfg.brand, **extra)
        # 2. Measured, with the logo: the delivered ad (in its delivery format) and its
        #    thumbnail
        ad, quality = finish_canvas(spec, box, layout, result, cfg.brand, job.row.copy)
        delivered = encode_delivery(ad, chosen)
        quality |= product_checks(cfg, job, ad, box) | byte_measures(delivered, chosen)
        if edit_kept(renderer, result.attempts):
            quality["copy_exact"] = float(ocr_verified(result.attempts[-1]))
        return StageOutput(
            blobs={"image": (delivered.data, delivered.extension),
                   "thumb": layer_png(thumbnail(ad))},
            meta={"width": spec.width, "height": spec.height, "quality": quality,
                  "format": delivered.format, "format_quality": delivered.quality,
                  "fonts": sorted({f.font for f in result.fits}),
                  "ellipsized": any(f.ellipsized for f in result.fits),
                  "attempts": result.attempts,
                  "backends": backends_of(job, canvas, layout, renderer, result.attempts)})

    manifest = run_cached(cfg, stage="text",
                          inputs={"composite": composite_made.key, "layout": layout_made.key,
                                  "copy": job.row.copy.model_dump(),
                                  "brand": cfg.brand.model_dump(mode="json")},
                          params={"min_font_px": cfg.min_font_px, "thumb_px": CELL,
                                  "spec": spec.model_dump(mode="json"), "measures": MEASURES,
                                  "delivery": chosen.model_dump(mode="json")},
                          backend=renderer.cache_key, compute=compute)
    return canvas.model_copy(update={"text": manifest})


def byte_measures(delivered: Encoded, chosen: DeliveryFormat) -> dict[str, float]:
    """The delivered file's size, and its budget where its format sets one (the `bytes`
    gate's threshold for this canvas)."""
    measures = {"bytes": float(len(delivered.data))}
    if chosen.max_bytes is not None:
        measures["byte_budget"] = float(chosen.max_bytes)
    return measures


def product_checks(cfg: RunConfig, job: ProductJob, ad: np.ndarray,
                   box: PixelBox) -> dict[str, float]:
    """How the product came through on the ad, against its cutout (cropped as the
    retouch crops it, so that it fills the product box as the placed product does)."""
    cutout = blob_image(cfg, job.need("cutout"), "cutout")
    source = crop_to_alpha(cutout, RETOUCH_PAD, threshold=ANY_COVERAGE)
    return product_region_checks(ad, source, box)


def edit_kept(renderer: Any, attempts: list[dict[str, Any]]) -> bool:
    """Whether the canvas carries the edit model's text (its last attempt passed)."""
    return bool(attempts) and attempts[-1]["backend"] == renderer.name \
        and attempts[-1]["passed"]


def ocr_verified(attempt: dict[str, Any]) -> bool:
    """An edit counts as the exact copy only when OCR read it back: for a language OCR
    cannot read (or without OCR installed) its check passes unverified, and the copy
    gate sends the canvas to the typesetting repair instead."""
    return any(metric.startswith("ocr_") for metric in attempt.get("metrics", {}))


def backends_of(job: ProductJob, canvas: CanvasJob, layout: LayoutSpec, renderer: Any,
                attempts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What made each part of the canvas, and why a fallback was taken."""
    background = canvas.need("background", job.sku)
    return {"segment": {"backend": job.need("cutout").backend.split(":")[0]},
            "background": {"backend": background.backend.split(":")[0],
                           "width": background.meta.get("width"),
                           "height": background.meta.get("height"),
                           "generated": background.meta.get("generated"),
                           "restyled": background.meta.get("restyled", False)},
            "layout": layout_record(layout),
            "text": text_record(renderer, attempts)}


def layout_record(layout: LayoutSpec) -> dict[str, Any]:
    if not layout.fallback:
        return {"backend": layout.made_by}
    return {"backend": layout.made_by, "fallback_from": "qwen2-vl", "reason": layout.fallback}


def text_record(renderer: Any, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """`edit` with its attempts, or `typeset` (with the reason when edits failed)."""
    if not attempts:
        return {"backend": "typeset"}
    edits = [a for a in attempts if a["backend"] == renderer.name]
    if edit_kept(renderer, attempts):
        return {"backend": "edit", "attempts": len(edits)}
    failures = sorted({f for a in edits for f in a.get("failures", [])})
    return {"backend": "typeset", "fallback_from": renderer.name, "attempts": len(edits),
            "reason": f"{len(edits)} edit(s) failed verification: "
                      + ("; ".join(failures) or "no edit passed")}


def product_mask(cfg: RunConfig, composite_made: Manifest,
                 shape: tuple[int, int]) -> np.ndarray:
    """Where the product is on the canvas (alpha >= 0.5): a text edit must not touch it."""
    alpha = blob_image(cfg, composite_made, "product")[..., 3]
    box = PixelBox(*composite_made.meta["product_box"])
    placed = cv2.resize(alpha, (box.width, box.height), interpolation=cv2.INTER_AREA)
    mask = np.zeros(shape, bool)
    mask[box.y0:box.y1, box.x0:box.x1] = placed >= 128
    return mask
