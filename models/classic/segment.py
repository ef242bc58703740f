"""The classic segmenter: a product on a plain or gently graded studio backdrop.

No weights, any CPU. The backdrop is what the frame's border shows; the product is what
the backdrop's colour model cannot explain:

1. a working copy (long side `work_size`) in CIELAB;
2. a backdrop model fitted to the border: per channel a robust polynomial in x, y
   (constant, then linear, then quadratic, trimming outliers such as a product that
   touches the frame), with the noise spread of its residuals;
3. per-pixel evidence against that model, shadow aware: in CIELAB's cube-root regime
   a shadow scales the vector (L + 16, a, b) of the lit backdrop by a factor s < 1, so
   a pixel is explained as backdrop-in-shadow when it lies on that ray (small
   perpendicular residual) and is not darker than the deepest plausible shadow;
4. GrabCut on the working copy, seeded from the evidence: definite backdrop far from
   any evidence, definite product where the evidence is strong, probable labels between;
5. the dominant object: small specks dropped, holes filled unless they show the backdrop;
6. the full-resolution matte (`adforge.imaging.matte.finish_cutout`);
7. a confidence in 0..1 and, below `min_confidence`, a warning (never an exception).

A grey photo (8- or 16-bit, or colour with no chroma) has no chroma evidence at all, so
there a pixel darker than any shadow the backdrop could take is strong evidence on its
own: without that, a grey product could only ever be "probably" product and GrabCut,
given no sure seed, found nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from adforge.imaging.matte import check_photo, finish_segmentation
from models.classic.base import ClassicBackend
from models.contracts import SegmentResult

STRONG, WEAK = 8.0, 3.5  # evidence in units of the backdrop's own noise spread
BORDER = 0.03  # border band used to learn the backdrop, fraction of the short side
NOISE_FLOOR_DE, NOISE_FLOOR_RATIO = 1.0, 0.012  # never trust noise below these
EDGE_STEP = 3.5  # ΔE per working pixel: steeper than any penumbra, a silhouette edge
GREY_CHROMA = 1.0  # largest |a|, |b| of a photo with no colour (a grey photo)


@dataclass
class Backdrop:
    """The backdrop model on the working grid, and how well the border fits it."""

    lit: np.ndarray  # (h, w, 3): (L + 16, a, b) of the lit backdrop at every pixel
    chroma_noise: float  # spread of the perpendicular residual on the border (ΔE)
    ratio_noise: float  # spread of the shadow ratio s on the border
    inlier_fraction: float  # border pixels the model explains
    border_error: float  # median residual of the border inliers (ΔE)


@dataclass
class Evidence:
    """Per-pixel evidence that a pixel is not the backdrop, in noise units."""

    chroma: np.ndarray  # perpendicular distance to the backdrop's shadow ray
    light: np.ndarray  # (s - 1) / noise: > 0 brighter than the backdrop, < 0 darker
    too_dark: np.ndarray  # bool: darker than any shadow the backdrop could take
    grey: bool = False  # a photo without colour: darkness is all the evidence there is

    @property
    def strength(self) -> np.ndarray:
        """A single score: chroma, brightening, and darkness beyond any shadow (which,
        in a grey photo, passes the strong seeds' threshold by itself)."""
        score = np.hypot(self.chroma, np.maximum(self.light, 0.0))
        floor = 2.0 * STRONG if self.grey else STRONG
        return np.where(self.too_dark, np.maximum(score, floor), score)

    @property
    def backdrop_like(self) -> np.ndarray:
        return (self.chroma < WEAK) & (np.abs(self.light) < WEAK)


class ClassicSegmenter(ClassicBackend):
    """Backdrop colour model + GrabCut + feathered, decontaminated matte."""

    name = "classic"

    def __init__(self, *, work_size: int = 320, shadow_depth: float = 0.75,
                 feather_px: float = 1.5, grabcut_iterations: int = 3,
                 min_confidence: float = 0.5) -> None:
        """work_size: long side of the working copy (GrabCut runs there).
        shadow_depth: the largest fraction of light a shadow on the backdrop removes;
            darker pixels with the backdrop's chroma count as product.
        feather_px: width of the cutout's soft edge at full resolution.
        min_confidence: below it the result carries a warning.
        """
        if not 64 <= work_size <= 2048:
            raise ValueError(f"work_size {work_size} is out of range: use 64..2048 pixels")
        if not 0.0 < shadow_depth < 1.0:
            raise ValueError(f"shadow_depth {shadow_depth} must be in (0, 1), e.g. 0.75")
        self.work_size = work_size
        self.shadow_depth = shadow_depth
        self.feather_px = feather_px
        self.grabcut_iterations = grabcut_iterations
        self.min_confidence = min_confidence

    def segment(self, image: np.ndarray) -> SegmentResult:
        check_photo(image)
        # 1. Working copy in CIELAB.
        small = _downscale(image, self.work_size)
        lab = _working_lab(small)
        # 2.-3. Backdrop model from the border, evidence against it.
        backdrop = fit_backdrop(lab)
        evidence = measure_evidence(lab, backdrop, self.shadow_depth)
        # 4.-5. GrabCut seeded from the evidence, then the dominant object.
        mask = grabcut_mask(small, lab, evidence, self.grabcut_iterations)
        mask = dominant_object(mask, evidence)
        # 6.-7. Full-resolution matte; confidence, and a warning when it is low.
        confidence = score_confidence(mask, evidence, backdrop)
        rgba, warnings = finish_segmentation(
            image, mask.astype(np.float32), confidence, feather_px=self.feather_px,
            min_confidence=self.min_confidence,
            nothing_found=None if mask.any() else "the photo looks like an empty backdrop",
            doubt="the backdrop is not plain")
        return SegmentResult(rgba=rgba, confidence=confidence, warnings=warnings)


def fit_backdrop(lab: np.ndarray) -> Backdrop:
    """Robust polynomial fit (per channel, in x and y) to the frame's border band."""
    h, w = lab.shape[:2]
    vectors = _shadow_vectors(lab)
    band = _border_band(h, w)
    xs, ys = _unit_grid(h, w)
    terms_all = _poly_terms(xs, ys, degree=2)
    samples, terms = vectors[band], terms_all[band]
    inliers = _trim(samples - np.median(samples, axis=0))
    for width in (3, 6, 6):  # linear, then quadratic twice
        coef = np.linalg.lstsq(terms[inliers, :width], samples[inliers], rcond=None)[0]
        inliers = _trim(samples - terms[:, :width] @ coef)
    lit = (terms_all @ coef).reshape(h, w, 3).astype(np.float32)
    ratio, chroma = _shadow_coordinates(vectors[band][inliers], lit[band][inliers])
    error = np.linalg.norm(samples[inliers] - terms[inliers] @ coef, axis=1)
    return Backdrop(
        lit=lit,
        chroma_noise=max(float(np.median(chroma)) * 1.4826, NOISE_FLOOR_DE),
        ratio_noise=max(float(np.median(np.abs(ratio - 1.0))) * 1.4826, NOISE_FLOOR_RATIO),
        inlier_fraction=float(inliers.mean()),
        border_error=float(np.median(error)),
    )


def measure_evidence(lab: np.ndarray, backdrop: Backdrop, shadow_depth: float) -> Evidence:
    """How far each pixel is from the backdrop, lit or in shadow."""
    ratio, chroma = _shadow_coordinates(_shadow_vectors(lab), backdrop.lit)
    deepest = (1.0 - shadow_depth) ** (1.0 / 3.0)  # cube-root regime of CIELAB
    return Evidence(
        chroma=chroma / backdrop.chroma_noise,
        light=(ratio - 1.0) / backdrop.ratio_noise,
        too_dark=ratio < deepest,
        grey=float(np.abs(lab[..., 1:]).max(initial=0.0)) < GREY_CHROMA,
    )


def grabcut_mask(small: np.ndarray, lab: np.ndarray, evidence: Evidence,
                 iterations: int) -> np.ndarray:
    """GrabCut on the working copy, its labels seeded from the evidence."""
    labels = _seed_labels(evidence, lab)
    if not (labels == cv2.GC_FGD).any() or not (labels == cv2.GC_BGD).any():
        return labels == cv2.GC_FGD
    y0, y1, x0, x1 = _crop_around(labels != cv2.GC_BGD, margin=8)
    crop = np.ascontiguousarray(labels[y0:y1, x0:x1])
    bgd_model, fgd_model = np.zeros((1, 65)), np.zeros((1, 65))
    image = np.ascontiguousarray(small[y0:y1, x0:x1])
    cv2.grabCut(image, crop, None, bgd_model, fgd_model, iterations, cv2.GC_INIT_WITH_MASK)
    mask = np.zeros(labels.shape, bool)
    mask[y0:y1, x0:x1] = (crop == cv2.GC_FGD) | (crop == cv2.GC_PR_FGD)
    return mask


def dominant_object(mask: np.ndarray, evidence: Evidence) -> np.ndarray:
    """The product: components of at least a tenth of the largest, holes filled unless
    they show the lit backdrop (a mug's handle)."""
    count, components, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= 0.1 * areas.max()) + 1
    mask = np.isin(components, keep)
    return _fill_holes(mask, evidence)


def score_confidence(mask: np.ndarray, evidence: Evidence, backdrop: Backdrop) -> float:
    """0..1: one backdrop model explains the border, and one sane object stands out."""
    area = float(mask.mean())
    if area == 0.0:
        return 0.0
    border_fit = _ramp(backdrop.inlier_fraction, 0.55, 0.9)
    border_plain = 1.0 / (1.0 + (backdrop.border_error / 6.0) ** 2)
    strong = evidence.strength > WEAK
    explained = float((strong & mask).sum()) / max(float(strong.sum()), 1.0)
    band = _border_band(*mask.shape)
    touching = float(mask[band].mean())
    sanity = _ramp(area, 0.002, 0.02) * (1.0 - _ramp(area, 0.7, 0.95))
    factors = (border_fit, border_plain, _ramp(explained, 0.6, 0.95),
               1.0 - _ramp(touching, 0.15, 0.5), sanity)
    return float(np.clip(np.prod(factors), 0.0, 1.0))


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def _downscale(image: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _working_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB of the working copy by OpenCV's float path, which approximates the sRGB
    curve with a spline (up to 0.55 ΔE off `adforge.imaging.color.srgb_to_lab`). The
    thresholds above were tuned on it, and any change moves the cutouts' edges; colour
    fidelity is never measured with it."""
    as_float = rgb.astype(np.float32) / 255.0
    return cv2.cvtColor(as_float.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def _shadow_vectors(lab: np.ndarray) -> np.ndarray:
    """(L + 16, a, b): the vector a shadow scales uniformly (Lab's cube-root regime)."""
    vectors = lab.copy()
    vectors[..., 0] += 16.0
    return vectors


def _shadow_coordinates(vectors: np.ndarray, lit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale s along the lit backdrop's ray, and the distance off that ray (ΔE)."""
    ratio = np.sum(vectors * lit, axis=-1) / np.maximum(np.sum(lit * lit, axis=-1), 1e-6)
    off_ray = vectors - ratio[..., None] * lit
    return ratio, np.linalg.norm(off_ray, axis=-1)


def _border_band(h: int, w: int) -> np.ndarray:
    width = max(2, round(BORDER * min(h, w)))
    band = np.ones((h, w), bool)
    band[width:h - width, width:w - width] = False
    return band


def _unit_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs / max(w - 1, 1) * 2 - 1, ys / max(h - 1, 1) * 2 - 1


def _poly_terms(xs: np.ndarray, ys: np.ndarray, degree: int) -> np.ndarray:
    x, y = xs.ravel(), ys.ravel()
    terms = [np.ones_like(x), x, y, x * x, x * y, y * y][: (degree + 1) * (degree + 2) // 2]
    return np.stack(terms, axis=1).reshape(*xs.shape, -1)


def _trim(residuals: np.ndarray) -> np.ndarray:
    """Inliers: residual norm within 2.5x the median residual (plus a noise floor)."""
    norms = np.linalg.norm(residuals, axis=-1)
    return norms <= 2.5 * np.median(norms) + NOISE_FLOOR_DE


def _seed_labels(evidence: Evidence, lab: np.ndarray) -> np.ndarray:
    strength = evidence.strength
    strong = cv2.morphologyEx((strength > STRONG).astype(np.uint8), cv2.MORPH_OPEN,
                              np.ones((3, 3), np.uint8)).astype(bool)
    weak = strength > WEAK
    reachable = _reachable_from_border(lab, weak)
    weak |= ~reachable
    h, w = strength.shape
    reach = max(3, round(0.04 * max(h, w)))
    near = cv2.dilate(weak.astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8)) > 0
    in_shadow = evidence.light < -WEAK
    labels = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    labels[reachable & (in_shadow | ~near)] = cv2.GC_BGD
    labels[weak] = cv2.GC_PR_FGD
    labels[strong] = cv2.GC_FGD
    return labels


def _reachable_from_border(lab: np.ndarray, barrier: np.ndarray) -> np.ndarray:
    """Pixels the border reaches without crossing product evidence or a sharp edge.

    A shadow on the backdrop fades in softly (a penumbra), a product's silhouette is a
    step: a dark product of the backdrop's hue is enclosed by sharp edges, its shadow
    is not.
    """
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    step = np.sqrt(np.sum(gx * gx + gy * gy, axis=-1))
    band = _border_band(*barrier.shape)
    noise_step = 4.0 * float(np.median(step[band]))  # grain and JPEG blocks are not edges
    blocked = barrier | (step > max(EDGE_STEP, noise_step))
    blocked = cv2.dilate(blocked.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # close gaps
    count, regions = cv2.connectedComponents((~blocked).astype(np.uint8), connectivity=4)
    touching = np.unique(regions[band & ~blocked])
    reached = np.isin(regions, touching[touching > 0]).astype(np.uint8)
    # Give back what closing the gaps took, and the edge's own pixels (a Sobel
    # response is 3 pixels wide): they belong to the side that shows no evidence.
    return (cv2.dilate(reached, np.ones((7, 7), np.uint8)) > 0) & ~barrier


def _crop_around(region: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    x, y, w, h = cv2.boundingRect(region.astype(np.uint8))
    rows, cols = region.shape
    return (max(0, y - margin), min(rows, y + h + margin),
            max(0, x - margin), min(cols, x + w + margin))


def _fill_holes(mask: np.ndarray, evidence: Evidence) -> np.ndarray:
    count, holes, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), 4)
    h, w = mask.shape
    backdrop_like = evidence.backdrop_like
    filled = mask.copy()
    for label in range(1, count):
        x, y, bw, bh, area = stats[label]
        if x == 0 or y == 0 or x + bw == w or y + bh == h:
            continue  # connected to the frame: the backdrop itself
        hole = holes[y:y + bh, x:x + bw] == label
        if backdrop_like[y:y + bh, x:x + bw][hole].mean() < 0.8 or area < 0.0005 * h * w:
            filled[y:y + bh, x:x + bw][hole] = True
    return filled


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))
