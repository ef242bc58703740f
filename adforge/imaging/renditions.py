"""Canvases: one ad per platform, composed at the platform's own size.

Each canvas is composed at its own aspect ratio, never stretched: the background is made
(or cover-scaled and cropped) to the frame, the product is placed by the placement rule
inside the preset's safe area, and the copy is laid out and fitted on the real pixels of
that frame; the logo goes in a free corner after the copy.

Stage backends are passed in (any object with the `LayoutAnalyzer` / `TextRenderer`
shape from `models.contracts`), so this module stays free of the backends themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from adforge.brandkit import BrandKit
from adforge.imaging.composite import Layers, compose_layers, place_product
from adforge.imaging.logo import load_logo, logo_box, paste_logo
from adforge.imaging.metrics import overlap_fraction, text_contrast
from adforge.specs import AdCopy, LayoutSpec, PixelBox, Placement, RenditionSpec, TextRole


@dataclass
class Rendition:
    spec: RenditionSpec
    image: np.ndarray  # (H, W, 3) uint8, exactly spec.height x spec.width
    layers: Layers
    layout: LayoutSpec
    fits: list[Any]  # FitReport per role
    quality: dict[str, float]


def compose_rendition(
    spec: RenditionSpec,
    product_rgba: np.ndarray,
    background: np.ndarray,
    *,
    placement: Placement,
    light_x: float,
    copy: AdCopy,
    brand: BrandKit,
    analyzer: Any,
    renderer: Any,
) -> Rendition:
    """Compose one platform's ad from the product layer and a background of any size:
    the whole chain of one canvas in one call (the stages run its parts one by one)."""
    # 1. The layers: background fitted to the frame, product placed, shadow
    layers = compose_canvas(spec, product_rgba, background, placement=placement,
                            light_x=light_x)
    flat = layers.flatten()
    # 2. Lay out the copy on the real pixels, away from the product
    layout = analyzer.analyze(flat, layers.product_box, copy, brand,
                              spec.safe_area.to_pixels(spec.width, spec.height))
    # 3. Set the type, measure the result, add the logo
    text = renderer.render(flat, layout, copy, brand)
    image, quality = finish_canvas(spec, layers.product_box, layout, text, brand, copy)
    return Rendition(spec=spec, image=image, layers=layers, layout=layout,
                     fits=text.fits, quality=quality)


def compose_canvas(spec: RenditionSpec, product_rgba: np.ndarray, background: np.ndarray,
                   *, placement: Placement, light_x: float) -> Layers:
    """A canvas's layers: the background fitted to the frame (cover and crop; a no-op at
    the right size), the product placed by the rule inside the safe area, its shadow."""
    frame = fit_background(background, spec.width, spec.height)
    safe = spec.safe_area.to_pixels(spec.width, spec.height)
    h, w = product_rgba.shape[:2]
    box = place_product((w, h), (spec.width, spec.height), placement, bounds=safe)
    return compose_layers(product_rgba, frame, box, light_x=light_x)


def finish_canvas(spec: RenditionSpec, product_box: PixelBox, layout: LayoutSpec,
                  text: Any, brand: BrandKit,
                  copy: AdCopy) -> tuple[np.ndarray, dict[str, float]]:
    """The canvas with its copy set (`text`: a `TextResult`), measured, with the brand's
    logo in a free corner of the safe area: the delivered image and its quality."""
    quality = rendition_quality(spec, product_box, layout, text.backing, text.fits, copy)
    safe = spec.safe_area.to_pixels(spec.width, spec.height)
    copy_boxes = [f.box for f in text.fits] or [
        box.box.to_pixels(spec.width, spec.height) for box in layout.boxes]
    image, logo = _with_logo(text.image, brand, safe, [product_box, *copy_boxes])
    quality["logo_inside_safe"] = float(logo is None or safe.contains(logo))
    return image, quality


def _with_logo(image: np.ndarray, brand: BrandKit, safe: PixelBox,
               avoid: list[PixelBox]) -> tuple[np.ndarray, PixelBox | None]:
    """The image with the logo, and where it went (None: no logo, or no free corner)."""
    if brand.logo is None:
        return image, None
    logo = load_logo(brand.logo)
    frame = PixelBox(0, 0, image.shape[1], image.shape[0])
    box = logo_box(logo.shape[:2], frame, safe, avoid)
    return (image, None) if box is None else (paste_logo(image, logo, box), box)


def fit_background(background: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale uniformly to cover width x height, then crop the centre. Never stretches."""
    bh, bw = background.shape[:2]
    if (bw, bh) == (width, height):
        return background
    scale = max(width / bw, height / bh)
    new_w, new_h = max(width, round(bw * scale)), max(height, round(bh * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(background, (new_w, new_h), interpolation=interpolation)
    x0, y0 = (new_w - width) // 2, (new_h - height) // 2
    return np.ascontiguousarray(scaled[y0:y0 + height, x0:x0 + width])


def rendition_quality(spec: RenditionSpec, product_box: PixelBox, layout: LayoutSpec,
                      backing: np.ndarray, fits: list[Any], copy: AdCopy) -> dict[str, float]:
    """The checks of a typeset rendition, as numbers (1.0 = true for the booleans); the
    gates that judge them are in `adforge.gates`. `copy_exact`: every role that has copy
    was set, none ellipsized (an edit, which sets no boxes, is judged by its caller)."""
    frame = PixelBox(0, 0, spec.width, spec.height)
    safe = spec.safe_area.to_pixels(spec.width, spec.height)
    colors = {b.role: b.color for b in layout.boxes}
    ink_boxes = [f.box for f in fits if f.lines]
    contrasts = [text_contrast(backing, f.box, colors[f.role]) for f in fits if f.lines]
    return {
        "width": float(backing.shape[1]),
        "height": float(backing.shape[0]),
        "product_inside": float(frame.contains(product_box)),
        "text_inside_safe": float(all(safe.contains(b) for b in ink_boxes)),
        "text_product_overlap": float(max((overlap_fraction(b, product_box)
                                           for b in ink_boxes), default=0.0)),
        "min_contrast": float(min(contrasts, default=21.0)),
        "ellipsized": float(any(f.ellipsized for f in fits)),
        "copy_exact": float(copy_set_exactly(fits, copy)),
    }


def copy_set_exactly(fits: list[Any], copy: AdCopy) -> bool:
    """Nothing ellipsized, and no role with copy left out (a layout without its box)."""
    set_roles = {f.role for f in fits if f.lines}
    wanted = {role for role in TextRole if copy.text_for(role).strip()}
    return wanted <= set_roles and not any(f.ellipsized for f in fits)
