"""Colour science used across stages: sRGB <-> CIELAB, ΔE, WCAG luminance and contrast."""

from __future__ import annotations

import cv2
import numpy as np


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgb_to_hex(rgb: tuple[int, int, int] | np.ndarray) -> str:
    r, g, b = (int(round(float(c))) for c in rgb)
    return f"#{r:02X}{g:02X}{b:02X}"


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of uint8 sRGB pixels, float32, L in 0..100 (OpenCV's exact path)."""
    as_float = rgb.astype(np.float32) / 255.0
    return cv2.cvtColor(as_float.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32).reshape(-1, 1, 3), cv2.COLOR_Lab2RGB)
    return np.clip(rgb.reshape(lab.shape) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def delta_e76(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIE76 ΔE per pixel (Euclidean distance in CIELAB)."""
    return np.sqrt(np.sum((lab_a.astype(np.float32) - lab_b.astype(np.float32)) ** 2, axis=-1))


def mean_delta_e(rgb_a: np.ndarray, rgb_b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean ΔE76 between two sRGB images, optionally inside a boolean/weight mask."""
    de = delta_e76(srgb_to_lab(rgb_a), srgb_to_lab(rgb_b))
    if mask is None:
        return float(de.mean())
    weights = mask.astype(np.float32)
    total = float(weights.sum())
    return float((de * weights).sum() / total) if total > 0 else 0.0


_LINEAR_LUT = np.array(
    [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
     for c in (np.arange(256) / 255.0)],
    dtype=np.float32,
)


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2.x relative luminance of uint8 sRGB pixels (any leading shape)."""
    lin = _LINEAR_LUT[np.asarray(rgb, dtype=np.uint8)]
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
