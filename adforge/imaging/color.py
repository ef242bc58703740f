"""Colour science used across stages: sRGB <-> CIELAB, ΔE, WCAG luminance and contrast.

sRGB (D65) <-> CIELAB uses OpenCV's constants through lookup tables and 3x3 transforms:
the CIE formula to float32 precision, about as fast as cv2.cvtColor's float path, which
approximates the sRGB curve with a spline and is up to 0.55 ΔE off. Every ΔE in AdForge
(the retouch bound, the quality metrics, the edit check) is the one measured here.
"""

from __future__ import annotations

import cv2
import numpy as np


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgb_to_hex(rgb: tuple[int, int, int] | np.ndarray) -> str:
    r, g, b = (int(round(float(c))) for c in rgb)
    return f"#{r:02X}{g:02X}{b:02X}"


# --------------------------------------------------------------------------- CIELAB

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
    """sRGB level (0..255) -> linear light (float32)."""
    c = np.arange(256) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _encode_table() -> np.ndarray:
    """Linear light in 1/65535 steps -> sRGB level, rounded."""
    c = np.arange(65536) / 65535.0
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.clip(srgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


_LINEAR = _decode_table()
_DECODE = _LINEAR.reshape(1, 256)  # as cv2.LUT takes it
_ENCODE = _encode_table()


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65, float32, L 0..100) of uint8 sRGB pixels (any leading shape, last 3)."""
    pixels = np.ascontiguousarray(rgb, dtype=np.uint8).reshape(-1, 1, 3)
    xyz = cv2.transform(cv2.LUT(pixels, _DECODE), _TO_WHITE_XYZ)
    f = cv2.pow(xyz, 1.0 / 3.0)
    dark = xyz <= 0.008856
    if dark.any():
        f[dark] = xyz[dark] * 7.787 + 16.0 / 116.0
    return cv2.transform(f, _F_TO_LAB).reshape(np.shape(rgb))


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """uint8 sRGB of CIELAB pixels (any leading shape, last 3); out-of-gamut colours clip."""
    pixels = np.ascontiguousarray(lab, dtype=np.float32).reshape(-1, 1, 3)
    f = cv2.transform(pixels, _LAB_TO_F)
    xyz = f * f * f
    dark = f <= 6.0 / 29.0
    if dark.any():
        xyz[dark] = (f[dark] - 16.0 / 116.0) / 7.787
    linear = cv2.transform(xyz, _FROM_WHITE_XYZ)
    np.clip(linear, 0.0, 65535.0, out=linear)
    return np.take(_ENCODE, linear.astype(np.uint16)).reshape(np.shape(lab))


# --------------------------------------------------------------------------- ΔE


def delta_e76(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIE76 ΔE per pixel (Euclidean distance in CIELAB); broadcasts."""
    difference = np.asarray(lab_a, np.float32) - np.asarray(lab_b, np.float32)
    return np.sqrt(np.sum(difference * difference, axis=-1))


def mean_lab_delta_e(lab_a: np.ndarray, lab_b: np.ndarray,
                     mask: np.ndarray | None = None) -> float:
    """Mean ΔE76 between two CIELAB images, over the pixels where `mask` is set (a
    boolean or 0/1 uint8 mask); 0.0 for an empty mask."""
    per_pixel = delta_e76(lab_a, lab_b)
    if mask is None:
        return float(cv2.mean(per_pixel)[0])
    inside = np.asarray(mask, dtype=np.uint8)
    return float(cv2.mean(per_pixel, mask=inside)[0]) if inside.any() else 0.0


def mean_delta_e(rgb_a: np.ndarray, rgb_b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean ΔE76 between two uint8 sRGB images, optionally inside a boolean mask."""
    return mean_lab_delta_e(srgb_to_lab(rgb_a), srgb_to_lab(rgb_b), mask)


# --------------------------------------------------------------------------- WCAG

def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2.x relative luminance of uint8 sRGB pixels (any leading shape)."""
    lin = _LINEAR[np.asarray(rgb, dtype=np.uint8)]
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def contrast_ratio(lum_a: np.ndarray | float, lum_b: np.ndarray | float) -> np.ndarray:
    """WCAG contrast ratio (1..21) between relative luminances (broadcasts)."""
    a = np.asarray(lum_a, dtype=np.float32)
    b = np.asarray(lum_b, dtype=np.float32)
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def min_contrast(color: str, pixels: np.ndarray) -> float:
    """The worst WCAG contrast between a colour and any of the given RGB pixels."""
    if pixels.size == 0:
        return 21.0
    lum = relative_luminance(pixels.reshape(-1, 3))
    text = float(relative_luminance(np.array(hex_to_rgb(color), dtype=np.uint8)))
    return float(contrast_ratio(text, lum).min())
