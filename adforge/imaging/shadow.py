"""Shadows from the product's matte: contact, ambient and cast, on a low-resolution canvas.

The shadow is computed with the product SHADOW_RES pixels tall and upscaled: a shadow
has no detail finer than that. `paint_shadows` writes the darkness (0 none .. 1 black)
into the frame's shadow layer and returns the region it wrote.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from adforge.specs import PixelBox

SHADOW_RES = 200  # product height (px) at which shadows are computed, then upscaled
CAST_SQUASH = 0.30  # cast shadow length on the floor, fraction of the product height
CAST_DARKNESS = 0.38
CONTACT_DARKNESS = 0.62
AMBIENT_DARKNESS = 0.22

Projector = Callable[[np.ndarray, float, float], np.ndarray]  # (matte, squash, shear)


def paint_shadows(shadow: np.ndarray, alpha: np.ndarray, placed: PixelBox,
                  light_px: float) -> PixelBox:
    """Write contact, ambient and cast shadows into `shadow`; return the region written.

    alpha: the product's matte (float32, 0..1) as placed at `placed`; light_px: the key
    light's x in the frame, which the cast shadow falls away from.
    """
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
