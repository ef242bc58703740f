"""Quality metrics as plain functions. They feed the tests and the quality table."""

from __future__ import annotations

import cv2
import numpy as np

from adforge.imaging.color import mean_delta_e, min_contrast
from adforge.specs import PixelBox


def matte_iou(alpha: np.ndarray, true_mask: np.ndarray, threshold: float = 0.5) -> float:
    """Intersection over union of a matte (thresholded) and a boolean mask."""
    predicted = alpha >= threshold if alpha.dtype != np.bool_ else alpha
    truth = true_mask.astype(bool)
    union = np.logical_or(predicted, truth).sum()
    return float(np.logical_and(predicted, truth).sum() / union) if union else 1.0


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Structural similarity of two images' luma (Gaussian window 11, sigma 1.5)."""
    x, y = (_luma(img) for img in (a, b))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    if mask is None:
        return float(index.mean())
    inside = mask.astype(bool)
    return float(index[inside].mean()) if inside.any() else 1.0


def _luma(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    return cv2.cvtColor(rgb[..., :3], cv2.COLOR_RGB2GRAY).astype(np.float32)


def product_fidelity(original_rgba: np.ndarray, result_rgba: np.ndarray) -> dict[str, float]:
    """SSIM and mean ΔE inside the product mask (alpha >= 0.5 in the original)."""
    mask = original_rgba[..., 3] >= 128
    return {
        "ssim": ssim(original_rgba[..., :3], result_rgba[..., :3], mask),
        "delta_e": mean_delta_e(original_rgba[..., :3], result_rgba[..., :3], mask),
    }


def text_contrast(backing: np.ndarray, box: PixelBox, color: str) -> float:
    """Worst WCAG contrast between a text colour and the real pixels under its box."""
    h, w = backing.shape[:2]
    x0, y0 = max(0, box.x0), max(0, box.y0)
    x1, y1 = min(w, box.x1), min(h, box.y1)
    return min_contrast(color, backing[y0:y1, x0:x1])


def overlap_fraction(a: PixelBox, b: PixelBox) -> float:
    """Area of a ∩ b as a fraction of a's area (0 when they do not touch)."""
    return a.intersection(b) / a.area if a.area else 0.0


def inside(inner: PixelBox, outer: PixelBox) -> bool:
    return outer.contains(inner)


def alpha_box(alpha: np.ndarray, threshold: float = 0.5) -> PixelBox:
    """The bounding box of a matte's opaque part, in pixels."""
    ys, xs = np.nonzero(alpha >= threshold)
    if len(xs) == 0:
        return PixelBox(0, 0, 0, 0)
    return PixelBox(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def laplacian_variance(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Sharpness: the variance of the Laplacian of the luma inside `mask` (0 when empty)."""
    response = cv2.Laplacian(_luma(rgb), cv2.CV_32F, ksize=3)
    inside = mask.astype(bool)
    return float(response[inside].var()) if inside.any() else 0.0


def product_region_checks(ad: np.ndarray, source_rgba: np.ndarray,
                          box: PixelBox) -> dict[str, float]:
    """How the product came through on the delivered canvas, against its source.

    `source_rgba`: the cutout, cropped as the retouch crops it, so that it fills `box`
    exactly as the placed product does. Compared at the placed size:
    - `product_visible`: the share of the box its matte covers (alpha >= 0.5): near 0
      when the segmenter found no solid product and a ghost was placed;
    - `product_ssim`: SSIM of the ad's product region against the source, inside the
      solid matte (shrunk by a few pixels: the edge blends with the backdrop);
    - `sharpness_ratio`: the region's variance of the Laplacian over the source's.
    """
    height, width = ad.shape[:2]
    inside = PixelBox(max(0, box.x0), max(0, box.y0), min(width, box.x1), min(height, box.y1))
    if inside.area == 0:
        return {"product_visible": 0.0, "product_ssim": 0.0, "sharpness_ratio": 0.0}
    shrinking = box.width <= source_rgba.shape[1] and box.height <= source_rgba.shape[0]
    source = cv2.resize(source_rgba, (box.width, box.height),  # as the composite resizes
                        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    source = source[inside.y0 - box.y0:inside.y1 - box.y0, inside.x0 - box.x0:inside.x1 - box.x0]
    region = ad[inside.y0:inside.y1, inside.x0:inside.x1]
    solid = source[..., 3] >= 128
    core = cv2.erode(solid.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    source_sharpness = laplacian_variance(source[..., :3], core)
    return {
        "product_visible": float(solid.sum() / box.area),
        "product_ssim": ssim(source[..., :3], region, core) if core.any() else 0.0,
        "sharpness_ratio": (laplacian_variance(region, core) / source_sharpness
                            if source_sharpness > 0 else 1.0),
    }
