"""Retouch: the product cutout harmonised to the backdrop's light, within a ΔE bound.

    light_of(background, box)          the backdrop's light colour where the product stands
    retouch_product(cutout, light)     harmonise, sharpen, tone; mean ΔE bounded and reported

The edits are made in CIELAB (`adforge.imaging.color`) on the product's tight crop, in
float32, with OpenCV doing the blurs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from adforge.imaging.color import lab_to_srgb, mean_lab_delta_e, srgb_to_lab
from adforge.imaging.matte import crop_to_alpha
from adforge.specs import PixelBox

RETOUCH_PAD = 4  # px kept around the alpha bounding box of a retouched cutout
ANY_COVERAGE = 1 / 255  # the retouched crop keeps every pixel the matte touches
SHARPEN_SIGMA = 1.2  # px, radius of the unsharp mask
BOUND_TRIES = 6  # attempts at meeting the ΔE bound before keeping the original pixels


@dataclass
class Retouched:
    """A retouched cutout, cropped tight, and how far its colours moved."""

    rgba: np.ndarray  # (h, w, 4) uint8, alpha bounding box plus RETOUCH_PAD px
    delta_e: float  # mean CIELAB ΔE76 inside the product mask (alpha >= 0.5), vs original


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
    crop = crop_to_alpha(cutout_rgba, RETOUCH_PAD, threshold=ANY_COVERAGE)
    rgb, alpha = crop[..., :3], crop[..., 3].astype(np.float32) * (1.0 / 255.0)
    mask = alpha >= 0.5
    # 2. Edit at full strength in CIELAB.
    lab = srgb_to_lab(rgb)
    light_lab = srgb_to_lab(np.asarray(light_rgb, np.float32).clip(0, 255)
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
        out = lab_to_srgb(lab + change * strength if strength < 1.0 else edited)
        delta_e = mean_lab_delta_e(lab, srgb_to_lab(out), mask_u8)
        if delta_e <= bound:
            return out, delta_e
        strength *= 0.95 * bound / delta_e
    return rgb.copy(), 0.0
