"""Compositing: a canvas's layers (background, shadow, product).

    light_of(background, box)          the backdrop's light colour   (adforge.imaging.retouch)
    retouch_product(cutout, light)     harmonise within a ΔE bound   (adforge.imaging.retouch)
    place_product(wh, frame, rule)     the placement rule: a box of any aspect, never stretched
    compose_layers(product, bg, box)   product layer + contact and cast shadow layer
                                       (the shadows: adforge.imaging.shadow)

The whole chain is importable from here. The layers stay apart (the store keeps each
canvas's background, shadow and product); `Layers.flatten()` gives the composed picture.
Work happens on the product's region of interest, in float32, with OpenCV doing blurs
and resizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from adforge.imaging.retouch import RETOUCH_PAD, Retouched, light_of, retouch_product
from adforge.imaging.shadow import paint_shadows
from adforge.specs import PixelBox, Placement

__all__ = ["RETOUCH_PAD", "Layers", "Retouched", "compose_layers", "light_of",
           "place_product", "retouch_product"]


@dataclass
class Layers:
    """A canvas's layers. `background` is shared with the caller and never modified."""

    background: np.ndarray  # (H, W, 3) uint8
    shadow: np.ndarray  # (H, W) float32, 0 (none) .. 1 (black)
    product: np.ndarray  # (H, W, 4) uint8, the product placed in the full frame
    product_box: PixelBox  # where the product's pixels are
    region: PixelBox | None = None  # where shadow or product may be non-zero

    def flatten(self) -> np.ndarray:
        """Background darkened by the shadow, then the product alpha-blended over it."""
        height, width = self.background.shape[:2]
        r = self.region or PixelBox(0, 0, width, height)
        out = self.background.copy()
        blended = out[r.y0:r.y1, r.x0:r.x1].astype(np.float32)
        product = self.product[r.y0:r.y1, r.x0:r.x1].astype(np.float32)
        alpha = product[..., 3:4] * (1.0 / 255.0)
        # background x light x (1 - alpha) + product x alpha, in place: a convex blend of
        # 0..255 values, so it needs no clipping before rounding
        blended *= 1.0 - self.shadow[r.y0:r.y1, r.x0:r.x1, None]
        blended *= 1.0 - alpha
        product[..., :3] *= alpha
        blended += product[..., :3]
        blended += 0.5
        out[r.y0:r.y1, r.x0:r.x1] = blended.astype(np.uint8)
        return out


# --------------------------------------------------------------------------- placement


def place_product(product_wh: tuple[int, int], frame_wh: tuple[int, int],
                  placement: Placement, bounds: PixelBox | None = None) -> PixelBox:
    """Where the product goes: its aspect kept, its area about `area_fraction` of the
    frame, entirely inside `bounds` (default: the frame inset by the margin)."""
    (pw, ph), (fw, fh) = product_wh, frame_wh
    if min(pw, ph, fw, fh) <= 0:
        raise ValueError(f"sizes must be positive: product {product_wh}, frame {frame_wh}")
    if bounds is None:
        inset = round(placement.margin * min(fw, fh))
        bounds = PixelBox(inset, inset, fw - inset, fh - inset)
    if bounds.width <= 0 or bounds.height <= 0:
        raise ValueError(f"bounds {bounds} are empty; lower placement.margin")
    anchor = placement.anchor
    if anchor == "auto":
        anchor = "right" if fw / fh >= 1.25 else "bottom"
    room = _room_for_product(anchor, bounds, placement.max_extent)
    width, height = _scaled_size(pw, ph, placement.area_fraction * fw * fh, room)
    x0, y0 = _anchored_origin(anchor, width, height, bounds)
    return PixelBox(x0, y0, x0 + width, y0 + height)


def _room_for_product(anchor: str, bounds: PixelBox, max_extent: float) -> PixelBox:
    """The part of `bounds` the product may fill: the copy keeps the rest of the shared axis."""
    share_w = max_extent if anchor in ("left", "right", "center") else 1.0
    share_h = max_extent if anchor in ("top", "bottom", "center") else 1.0
    width = max(1, round(bounds.width * share_w))
    height = max(1, round(bounds.height * share_h))
    return PixelBox(bounds.x0, bounds.y0, bounds.x0 + width, bounds.y0 + height)


def _scaled_size(pw: int, ph: int, target_area: float, bounds: PixelBox) -> tuple[int, int]:
    scale = min(np.sqrt(target_area / (pw * ph)), bounds.width / pw, bounds.height / ph)
    if pw >= ph:
        width = max(1, min(bounds.width, int(pw * scale + 0.5)))
        height = max(1, min(bounds.height, round(width * ph / pw)))
    else:
        height = max(1, min(bounds.height, int(ph * scale + 0.5)))
        width = max(1, min(bounds.width, round(height * pw / ph)))
    return width, height


def _anchored_origin(anchor: str, width: int, height: int, b: PixelBox) -> tuple[int, int]:
    free_x, free_y = b.width - width, b.height - height
    centre_x, centre_y = b.x0 + free_x // 2, b.y0 + free_y // 2
    low_y = b.y0 + round(free_y * 0.62)  # a little below the middle
    origins = {
        "center": (centre_x, centre_y),
        "left": (b.x0, low_y),
        "right": (b.x1 - width, low_y),
        "top": (centre_x, b.y0),
        "bottom": (centre_x, b.y1 - height),
    }
    if anchor not in origins:
        raise ValueError(f"anchor {anchor!r} is unknown; use auto, {', '.join(origins)}")
    return origins[anchor]


# --------------------------------------------------------------------------- layers


def compose_layers(product_rgba: np.ndarray, background_rgb: np.ndarray, box: PixelBox, *,
                   light_x: float = 0.35, feather_px: float | None = None) -> Layers:
    """Place the product in `box` over the background, with a contact and a cast shadow.

    The product is fitted into the box (aspect kept, bottom-centred), its edge feathered
    inward, and the shadows are derived from its matte; `light_x` is the key light's
    horizontal position (0 left .. 1 right) that the cast shadow falls away from.
    """
    # 1. Check inputs.
    height, width = background_rgb.shape[:2]
    _check_compose_inputs(product_rgba, background_rgb, box)
    # 2. Fit the product into its box and feather the matte.
    placed = _fit_into(product_rgba.shape[1], product_rgba.shape[0], box)
    rgb, alpha = _resize_premultiplied(product_rgba, placed.width, placed.height)
    feather = feather_px if feather_px is not None else 0.5 + max(placed.width,
                                                                 placed.height) / 1000.0
    alpha = _feather(alpha, feather)
    # 3. Shadows from the matte, on the region of interest only.
    shadow = np.zeros((height, width), np.float32)
    shadow_roi = paint_shadows(shadow, alpha, placed, light_x * width)
    # 4. The product layer in the full frame.
    product = np.zeros((height, width, 4), np.uint8)
    product[placed.y0:placed.y1, placed.x0:placed.x1, :3] = rgb
    product[placed.y0:placed.y1, placed.x0:placed.x1, 3] = alpha * 255.0 + 0.5
    region = PixelBox(min(placed.x0, shadow_roi.x0), min(placed.y0, shadow_roi.y0),
                      max(placed.x1, shadow_roi.x1), max(placed.y1, shadow_roi.y1))
    return Layers(background=background_rgb, shadow=shadow, product=product,
                  product_box=placed, region=region)


def _check_compose_inputs(product: np.ndarray, background: np.ndarray, box: PixelBox) -> None:
    if product.ndim != 3 or product.shape[2] != 4 or product.dtype != np.uint8:
        raise ValueError(f"product_rgba must be (h, w, 4) uint8, got {product.shape}")
    if background.ndim != 3 or background.shape[2] != 3 or background.dtype != np.uint8:
        raise ValueError(f"background_rgb must be (H, W, 3) uint8, got {background.shape}")
    height, width = background.shape[:2]
    if box.width <= 0 or box.height <= 0 or not PixelBox(0, 0, width, height).contains(box):
        raise ValueError(f"box {box} must be non-empty and inside the {width}x{height} "
                         "frame; take it from place_product")
    if not product[..., 3].any():
        raise ValueError("product_rgba has an empty alpha: nothing to place")


def _fit_into(pw: int, ph: int, box: PixelBox) -> PixelBox:
    """The largest box of the product's aspect inside `box`, centred, standing on its floor."""
    scale = min(box.width / pw, box.height / ph)
    width = max(1, min(box.width, round(pw * scale)))
    height = max(1, min(box.height, round(ph * scale)))
    x0 = box.x0 + (box.width - width) // 2
    return PixelBox(x0, box.y1 - height, x0 + width, box.y1)


def _resize_premultiplied(rgba: np.ndarray, width: int, height: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Resize with premultiplied alpha (no dark fringes); returns uint8 RGB, float32 alpha."""
    shrinking = width <= rgba.shape[1] and height <= rgba.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    premultiplied = cv2.cvtColor(np.ascontiguousarray(rgba), cv2.COLOR_RGBA2mRGBA)
    small = cv2.cvtColor(cv2.resize(premultiplied, (width, height), interpolation=interpolation),
                         cv2.COLOR_mRGBA2RGBA)
    return small[..., :3], small[..., 3].astype(np.float32) * (1.0 / 255.0)


def _feather(alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Soften the matte's edge inward only, so no undefined colour is revealed."""
    if sigma <= 0:
        return alpha
    return np.minimum(alpha, cv2.GaussianBlur(alpha, (0, 0), sigma))
