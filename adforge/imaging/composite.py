"""Compositing and retouch: the layered master (background, shadow, product).

    light_of(background, box)          the backdrop's light colour where the product stands
    retouch_product(cutout, light)     harmonise, sharpen, tone; mean ΔE bounded and reported
    place_product(wh, frame, rule)     the placement rule: a box of any aspect, never stretched
    compose_layers(product, bg, box)   product layer + contact and cast shadow layer

The layers stay apart so that renditions re-compose them at other aspect ratios;
`Layers.flatten()` gives the finished picture. Work happens on the product's region of
interest, in float32, with OpenCV doing blurs and resizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from adforge.specs import PixelBox, Placement

RETOUCH_PAD = 4  # px kept around the alpha bounding box of a retouched cutout
SHARPEN_SIGMA = 1.2  # px, radius of the unsharp mask
BOUND_TRIES = 6  # attempts at meeting the ΔE bound before keeping the original pixels
SHADOW_RES = 200  # product height (px) at which shadows are computed, then upscaled
CAST_SQUASH = 0.30  # cast shadow length on the floor, fraction of the product height
CAST_DARKNESS = 0.38
CONTACT_DARKNESS = 0.62
AMBIENT_DARKNESS = 0.22

Projector = Callable[[np.ndarray, float, float], np.ndarray]  # (matte, squash, shear)

# sRGB (D65) <-> CIELAB with OpenCV's constants, via lookup tables and 3x3 transforms:
# several times faster than cvtColor's float path, equal to it within 0.01 ΔE.
_RGB_TO_XYZ = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
                        [0.019334, 0.119193, 0.950227]])
_WHITE = np.array([0.950456, 1.0, 1.088754])
_TO_WHITE_XYZ = (_RGB_TO_XYZ / _WHITE[:, None]).astype(np.float32)
_F_TO_LAB = np.array([[0, 116, 0, -16], [500, -500, 0, 0], [0, 200, -200, 0]], np.float32)
_LAB_TO_F = np.array([[1 / 116, 1 / 500, 0, 16 / 116], [1 / 116, 0, 0, 16 / 116],
                      [1 / 116, 0, -1 / 200, 16 / 116]], np.float32)
_FROM_WHITE_XYZ = np.hstack([np.linalg.inv(_RGB_TO_XYZ) * _WHITE[None, :] * 65535.0,
                             np.full((3, 1), 0.5)]).astype(np.float32)


def _decode_table() -> np.ndarray:
    c = np.arange(256) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _encode_table() -> np.ndarray:
    c = np.arange(65536) / 65535.0
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.clip(srgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


_DECODE = _decode_table().reshape(1, 256)
_ENCODE = _encode_table()


def fast_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (float32, L 0..100) of a uint8 sRGB image (H, W, 3)."""
    xyz = cv2.transform(cv2.LUT(rgb, _DECODE), _TO_WHITE_XYZ)
    f = cv2.pow(xyz, 1.0 / 3.0)
    dark = xyz <= 0.008856
    if dark.any():
        f[dark] = xyz[dark] * 7.787 + 16.0 / 116.0
    return cv2.transform(f, _F_TO_LAB)


def fast_srgb(lab: np.ndarray) -> np.ndarray:
    """uint8 sRGB of a float32 CIELAB image (H, W, 3); out-of-gamut colours are clipped."""
    f = cv2.transform(lab, _LAB_TO_F)
    xyz = f * f * f
    dark = f <= 6.0 / 29.0
    if dark.any():
        xyz[dark] = (f[dark] - 16.0 / 116.0) / 7.787
    linear = cv2.transform(xyz, _FROM_WHITE_XYZ)
    np.clip(linear, 0.0, 65535.0, out=linear)
    return np.take(_ENCODE, linear.astype(np.uint16))


@dataclass
class Retouched:
    """A retouched cutout, cropped tight, and how far its colours moved."""

    rgba: np.ndarray  # (h, w, 4) uint8, alpha bounding box plus RETOUCH_PAD px
    delta_e: float  # mean CIELAB ΔE76 inside the product mask (alpha >= 0.5), vs original


@dataclass
class Layers:
    """The layered master. `background` is shared with the caller and never modified."""

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
        bg = out[r.y0:r.y1, r.x0:r.x1].astype(np.float32)
        product = self.product[r.y0:r.y1, r.x0:r.x1].astype(np.float32)
        alpha = product[..., 3:4] * (1.0 / 255.0)
        lit = 1.0 - self.shadow[r.y0:r.y1, r.x0:r.x1, None]
        blended = bg * lit * (1.0 - alpha) + product[..., :3] * alpha
        out[r.y0:r.y1, r.x0:r.x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out


# --------------------------------------------------------------------------- light


def light_of(background_rgb: np.ndarray, box: PixelBox | None = None) -> np.ndarray:
    """The backdrop's light colour (float32 RGB, 0..255) around where the product stands.

    A trimmed mean: pixels between the 20th and 80th percentile of brightness, so that
    vignette corners and specks do not pull it.
    """
    height, width = background_rgb.shape[:2]
    region = _around(box, width, height) if box is not None else PixelBox(0, 0, width, height)
    patch = background_rgb[region.y0:region.y1, region.x0:region.x1]
    step = max(1, int(np.sqrt(patch.shape[0] * patch.shape[1] / 20_000)))
    pixels = patch[::step, ::step].reshape(-1, 3).astype(np.float32)
    brightness = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    low, high = np.percentile(brightness, [20, 80])
    kept = pixels[(brightness >= low) & (brightness <= high)]
    return (kept if len(kept) else pixels).mean(axis=0).astype(np.float32)


def _around(box: PixelBox, width: int, height: int) -> PixelBox:
    """The box widened by half its width each side and a quarter of its height below."""
    dx, dy = box.width // 2, box.height // 4
    region = PixelBox(max(0, box.x0 - dx), max(0, box.y0), min(width, box.x1 + dx),
                      min(height, box.y1 + dy))
    if region.area == 0:
        raise ValueError(f"box {box} lies outside the {width}x{height} background")
    return region


# --------------------------------------------------------------------------- retouch


def retouch_product(cutout_rgba: np.ndarray, light_rgb: np.ndarray | tuple[float, ...], *,
                    harmonise: float = 0.3, max_delta_e: float = 3.0, sharpen: float = 0.4,
                    contrast: float = 1.04) -> Retouched:
    """Harmonise the product to the backdrop's light, sharpen and tone it, within a ΔE bound.

    The edits are made at full strength, then blended back toward the original by the
    factor that brings the mean ΔE inside the mask under `max_delta_e` (measured on the
    final 8-bit pixels, so the bound is a guarantee, not an estimate).
    """
    # 1. Check inputs and crop tight around the product.
    _check_retouch_inputs(cutout_rgba, harmonise, max_delta_e, sharpen, contrast)
    crop = _crop_to_alpha(cutout_rgba, RETOUCH_PAD)
    rgb, alpha = crop[..., :3], crop[..., 3].astype(np.float32) * (1.0 / 255.0)
    mask = alpha >= 0.5
    # 2. Edit at full strength in CIELAB.
    lab = fast_lab(np.ascontiguousarray(rgb))
    light_lab = fast_lab(np.asarray(light_rgb, np.float32).clip(0, 255)
                         .astype(np.uint8).reshape(1, 1, 3))[0, 0]
    edited = _harmonise(lab, mask, light_lab, harmonise)
    _sharpen_lightness(edited, alpha, sharpen)
    _tone_lightness(edited, contrast)
    # 3. Keep the change within the bound, measured on the final pixels.
    out, delta_e = _bounded(rgb, lab, edited, mask, max_delta_e)
    rgba = np.empty(crop.shape, np.uint8)
    rgba[..., :3], rgba[..., 3] = out, crop[..., 3]
    return Retouched(rgba=rgba, delta_e=delta_e)


def _check_retouch_inputs(cutout: np.ndarray, harmonise: float, max_delta_e: float,
                          sharpen: float, contrast: float) -> None:
    if cutout.ndim != 3 or cutout.shape[2] != 4 or cutout.dtype != np.uint8:
        raise ValueError(f"cutout_rgba must be (H, W, 4) uint8, got {cutout.shape} "
                         f"{cutout.dtype}; pass the segmenter's RGBA cutout")
    if not cutout[..., 3].any():
        raise ValueError("cutout_rgba has an empty alpha: the segmenter found no product")
    checks = [("harmonise", harmonise, 0.0, 1.0), ("max_delta_e", max_delta_e, 0.0, 100.0),
              ("sharpen", sharpen, 0.0, 3.0), ("contrast", contrast, 0.8, 1.25)]
    for name, value, low, high in checks:
        if not low <= value <= high:
            raise ValueError(f"{name}={value} is out of range; use {low}..{high}")


def _crop_to_alpha(rgba: np.ndarray, pad: int) -> np.ndarray:
    x, y, w, h = cv2.boundingRect(rgba[..., 3])
    height, width = rgba.shape[:2]
    return rgba[max(0, y - pad):min(height, y + h + pad), max(0, x - pad):min(width, x + w + pad)]


def _harmonise(lab: np.ndarray, mask: np.ndarray, light_lab: np.ndarray,
               strength: float) -> np.ndarray:
    """Take on the light's colour cast (more in the highlights) and a little of its level."""
    lightness = lab[..., 0]
    inside = lightness[mask] if mask.any() else lightness.ravel()
    level = float(inside.mean())
    gain = 1.0 + strength * 0.12 * (float(light_lab[0]) - level) / 100.0
    out = np.empty_like(lab)
    out[..., 0] = np.clip(lightness * gain, 0.0, 100.0)
    cast = strength * 0.6 * (0.5 + lightness * (0.5 / 100.0))
    out[..., 1] = lab[..., 1] + cast * float(light_lab[1])
    out[..., 2] = lab[..., 2] + cast * float(light_lab[2])
    return out


def _sharpen_lightness(lab: np.ndarray, alpha: np.ndarray, amount: float) -> None:
    """Unsharp mask on L only; the blur is normalised by alpha so the backdrop cannot halo."""
    if amount <= 0:
        return
    lightness = np.ascontiguousarray(lab[..., 0])
    blur_alpha = cv2.GaussianBlur(alpha, (0, 0), SHARPEN_SIGMA)
    blur_l = cv2.GaussianBlur(lightness * alpha, (0, 0), SHARPEN_SIGMA)
    local = blur_l / np.maximum(blur_alpha, 1e-3)
    lab[..., 0] = np.clip(lightness + amount * (lightness - local), 0.0, 100.0)


def _tone_lightness(lab: np.ndarray, contrast: float) -> None:
    """A gentle S-curve on L around mid-grey; slope `contrast` at the middle, ends fixed."""
    k = 2.0 * (contrast - 1.0)
    if k == 0:
        return
    x = lab[..., 0] * (1.0 / 100.0)
    s_curve = x * x * (3.0 - 2.0 * x)
    lab[..., 0] = (x + k * (s_curve - x)) * 100.0


def _bounded(rgb: np.ndarray, lab: np.ndarray, edited: np.ndarray, mask: np.ndarray,
             bound: float) -> tuple[np.ndarray, float]:
    """The edit, blended toward the original until mean ΔE inside the mask <= bound."""
    change = edited - lab
    mask_u8 = mask.astype(np.uint8)
    strength = 1.0
    for _ in range(BOUND_TRIES):
        out = fast_srgb(lab + change * strength if strength < 1.0 else edited)
        delta_e = _mean_delta_e(lab, out, mask_u8)
        if delta_e <= bound:
            return out, delta_e
        strength *= 0.95 * bound / delta_e
    return rgb.copy(), 0.0


def _mean_delta_e(lab: np.ndarray, rgb: np.ndarray, mask_u8: np.ndarray) -> float:
    """Mean ΔE76 between `lab` and the Lab of `rgb`, over the pixels where mask_u8 is 1."""
    diff = cv2.subtract(fast_lab(rgb), lab)
    squared = cv2.transform(cv2.multiply(diff, diff), np.ones((1, 3), np.float32))
    return float(cv2.mean(cv2.sqrt(squared), mask=mask_u8)[0]) if mask_u8.any() else 0.0


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
    shadow_roi = _paint_shadows(shadow, alpha, placed, light_x * width)
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


# --------------------------------------------------------------------------- shadows


def _paint_shadows(shadow: np.ndarray, alpha: np.ndarray, placed: PixelBox,
                   light_px: float) -> PixelBox:
    """Write contact, ambient and cast shadows into `shadow`; return the region written."""
    rows = np.flatnonzero((alpha >= 0.5).any(axis=1))
    rows = rows if len(rows) else np.flatnonzero(alpha.any(axis=1))
    top, base = placed.y0 + int(rows[0]), placed.y0 + int(rows[-1]) + 1
    tall = max(1, base - top)
    direction = 1.0 if (placed.x0 + placed.x1) / 2 >= light_px else -1.0
    offset = abs((placed.x0 + placed.x1) / 2 - light_px) / shadow.shape[1]
    shear = direction * min(1.0, 0.45 + offset)
    roi = _shadow_roi(placed, base, tall, shear, shadow.shape)
    scale = min(1.0, SHADOW_RES / tall)
    low_w, low_h = max(2, round(roi.width * scale)), max(2, round(roi.height * scale))
    fx, fy = low_w / roi.width, low_h / roi.height
    matte = cv2.resize(alpha, (max(1, round(placed.width * fx)), max(1, round(placed.height * fy))),
                       interpolation=cv2.INTER_AREA)
    project = _projector(matte, placed, roi, base, (fx, fy), (low_w, low_h))
    band = matte.copy()  # the bottom of the product: what touches the floor
    band[: max(0, round((base - placed.y0 - 0.06 * tall) * fy))] = 0.0
    canvas = _shadow_canvas(matte, band, project, (base - roi.y0) * fy, tall * fy, shear)
    full = cv2.resize(canvas, (roi.width, roi.height), interpolation=cv2.INTER_LINEAR)
    shadow[roi.y0:roi.y1, roi.x0:roi.x1] = np.clip(full, 0.0, 1.0)
    return roi


def _shadow_roi(placed: PixelBox, base: int, tall: int, shear: float,
                frame_shape: tuple[int, ...]) -> PixelBox:
    height, width = frame_shape[:2]
    pad = max(6, round(0.22 * tall))  # past the softest blur, so no edge shows
    reach = round(abs(shear) * tall)
    left = placed.x0 - pad - (reach if shear < 0 else 0)
    right = placed.x1 + pad + (reach if shear > 0 else 0)
    return PixelBox(max(0, left), max(0, base - round(CAST_SQUASH * tall) - pad),
                    min(width, right), min(height, base + pad))


def _projector(matte: np.ndarray, placed: PixelBox, roi: PixelBox, base: int,
               factors: tuple[float, float], size: tuple[int, int]) -> Projector:
    """A function (source, squash, shear) -> the source matte laid onto the floor canvas.

    A point h pixels above the base lands squash*h behind it (up the image) and shear*h
    to the side; coordinates are continuous (pixel i covers [i, i+1)).
    """
    fx, fy = factors
    sx, sy = matte.shape[1] / placed.width, matte.shape[0] / placed.height
    to_frame = _affine(1 / sx, 1 / sy, placed.x0, placed.y0) @ _affine(1, 1, 0.5, 0.5)
    to_canvas = _affine(1, 1, -0.5, -0.5) @ _affine(fx, fy, -roi.x0 * fx, -roi.y0 * fy)

    def project(source: np.ndarray, squash: float, shear: float) -> np.ndarray:
        lay = np.array([[1.0, -shear, shear * base],
                        [0.0, squash, base * (1.0 - squash)], [0.0, 0.0, 1.0]])
        matrix = (to_canvas @ lay @ to_frame)[:2]
        return cv2.warpAffine(source, matrix, size, flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    return project


def _affine(scale_x: float, scale_y: float, shift_x: float, shift_y: float) -> np.ndarray:
    return np.array([[scale_x, 0.0, shift_x], [0.0, scale_y, shift_y], [0.0, 0.0, 1.0]])


def _shadow_canvas(matte: np.ndarray, band: np.ndarray, project: Projector, base_y: float,
                   tall: float, shear: float) -> np.ndarray:
    """Darkness on the low-resolution canvas: 1 - (1 - contact)(1 - ambient)(1 - cast)."""
    # Contact: the bottom band of the matte, flattened onto the base, front and back.
    footprint = np.maximum(project(band, 0.25, 0.0), project(band, -0.12, 0.0))
    contact = cv2.GaussianBlur(footprint, (0, 0), max(0.6, 0.012 * tall))
    ambient = cv2.GaussianBlur(footprint, (0, 0), max(1.5, 0.07 * tall))
    # Cast: the silhouette laid on the floor behind the product, fading and softening.
    cast = project(matte, CAST_SQUASH, shear)
    rows = np.arange(cast.shape[0], dtype=np.float32)[:, None] + 0.5
    distance = np.clip((base_y - rows) / (CAST_SQUASH * tall), 0.0, 1.0)
    cast *= (1.0 - distance) ** 1.5
    near = cv2.GaussianBlur(cast, (0, 0), max(0.8, 0.02 * tall))
    far = cv2.GaussianBlur(cast, (0, 0), max(2.0, 0.08 * tall))
    cast = near + (far - near) * distance
    light = ((1.0 - CONTACT_DARKNESS * np.minimum(contact * 1.6, 1.0))
             * (1.0 - AMBIENT_DARKNESS * np.minimum(ambient * 1.4, 1.0))
             * (1.0 - CAST_DARKNESS * cast))
    return 1.0 - light
