"""The brand's logo on an ad: a free corner of the safe area, never over product or copy.

A logo should come with transparency (a PNG with alpha). One that has none (a JPEG) is
keyed when it stands on a plain ground, as most exported logos do: the ground colour,
read from its border, becomes transparent and the edge colours are recovered from the
blend. One on a busy ground stays an opaque rectangle. Either way `logo_warning` says
so, for the run to report before any work.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np

from adforge.imageio import load_image
from adforge.imaging.color import contrast_ratio, relative_luminance
from adforge.specs import PixelBox

LOGO_SHARE = 0.16  # logo width as a fraction of the frame's short side (height capped too)
PLAIN_GROUND = 24.0  # RGB distance within which a border pixel is "the ground colour"
PLAIN_SHARE = 0.95  # share of border pixels that must be the ground colour to key it
KEY_SOFT = (12.0, 48.0)  # RGB distances from the ground: fully clear .. fully opaque


@cache
def load_logo(path: Path) -> np.ndarray:
    """The logo as RGBA: its own alpha, else keyed off a plain ground, else opaque."""
    loaded = load_image(path, name=f"brand logo {path}", min_side=8)
    if loaded.alpha is not None:
        return loaded.rgba()
    keyed = key_plain_ground(loaded.rgb)
    return keyed if keyed is not None else loaded.rgba()


def logo_warning(path: Path) -> str | None:
    """What a run should say about this logo (it has no alpha channel), or None; loading
    it raises ImageInputError when it cannot be used at all."""
    loaded = load_image(path, name=f"brand logo {path}", min_side=8)
    if loaded.alpha is not None:
        return None
    fix = "export it as a PNG with a transparent background"
    if key_plain_ground(loaded.rgb) is not None:
        return (f"brand logo {path} has no alpha channel: its plain background colour is "
                f"made transparent (keyed); {fix} to control its edges")
    return (f"brand logo {path} has no alpha channel and no plain background: it is drawn "
            f"as an opaque rectangle; {fix}")


def key_plain_ground(rgb: np.ndarray) -> np.ndarray | None:
    """RGBA with the ground colour (the border's median, when nearly all the border is
    that colour) made transparent, and edge colours un-blended from it; None when the
    border is not plain."""
    pixels = rgb.astype(np.float32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    ground = np.median(border, axis=0)
    if float(np.mean(np.linalg.norm(border - ground, axis=1) < PLAIN_GROUND)) < PLAIN_SHARE:
        return None
    distance = np.linalg.norm(pixels - ground, axis=2)
    alpha = np.clip((distance - KEY_SOFT[0]) / (KEY_SOFT[1] - KEY_SOFT[0]), 0.0, 1.0)
    safe = np.maximum(alpha, 1e-3)[..., None]
    ink = np.where(alpha[..., None] > 0, (pixels - ground * (1.0 - safe)) / safe, pixels)
    rgba = np.dstack([np.clip(ink + 0.5, 0, 255), alpha * 255.0 + 0.5])
    return rgba.astype(np.uint8)


def logo_box(logo_hw: tuple[int, int], frame: PixelBox, safe: PixelBox,
             avoid: list[PixelBox]) -> PixelBox | None:
    """The first safe-area corner (top-left, top-right, bottom-left, bottom-right) where a
    logo of the right size touches none of `avoid`; None when every corner is taken."""
    short = min(frame.width, frame.height)
    lh, lw = logo_hw
    width = round(short * LOGO_SHARE)
    height = round(width * lh / lw)
    if height > short * LOGO_SHARE * 0.6:  # a tall logo: cap its height instead
        height = round(short * LOGO_SHARE * 0.6)
        width = round(height * lw / lh)
    gap = round(0.02 * short)
    for x0 in (safe.x0, safe.x1 - width):
        for y0 in (safe.y0, safe.y1 - height):
            box = PixelBox(x0, y0, x0 + width, y0 + height)
            padded = PixelBox(box.x0 - gap, box.y0 - gap, box.x1 + gap, box.y1 + gap)
            if all(padded.intersection(other) == 0 for other in avoid):
                return box
    return None


def paste_logo(image: np.ndarray, logo_rgba: np.ndarray, box: PixelBox) -> np.ndarray:
    """Alpha-blend the logo, resized to `box`, into a copy of `image`; on a ground it
    would vanish into (contrast under 3:1), the reversed logo (white) is used instead."""
    out = image.copy()
    scaled = cv2.resize(logo_rgba, (box.width, box.height), interpolation=cv2.INTER_AREA)
    alpha = scaled[..., 3:4].astype(np.float32) / 255.0
    region = out[box.y0:box.y1, box.x0:box.x1].astype(np.float32)
    if _logo_contrast(scaled, region, alpha) < 3.0:
        scaled = scaled.copy()
        scaled[..., :3] = 255
    blended = scaled[..., :3].astype(np.float32) * alpha + region * (1.0 - alpha)
    out[box.y0:box.y1, box.x0:box.x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


def _logo_contrast(logo: np.ndarray, ground: np.ndarray, alpha: np.ndarray) -> float:
    weight = float(alpha.sum()) or 1.0
    ink = (logo[..., :3].astype(np.float32) * alpha).sum(axis=(0, 1)) / weight
    ink_lum = relative_luminance(np.clip(ink + 0.5, 0, 255).astype(np.uint8))
    ground_lum = relative_luminance(np.clip(ground.mean(axis=(0, 1)) + 0.5, 0, 255)
                                    .astype(np.uint8))
    return float(contrast_ratio(ink_lum, ground_lum))
