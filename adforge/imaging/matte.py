"""Matte finishing shared by every segmenter: a coarse alpha in, a clean RGBA cutout out.

A segmenter (classic GrabCut, or BiRefNet's probability map) gives a coarse alpha,
often at a lower resolution than the photo. `finish_cutout` turns it into the cutout
that later stages composite:

1. resize the coarse alpha to the photo (bilinear);
2. refine it at full resolution along the photo's own edges (a colour-guided filter);
3. feather: a soft edge `feather_px` wide, centred on the refined contour;
4. decontaminate the edge colours: solve I = a*F + (1-a)*B for the foreground colour F,
   with F and B estimated from nearby pure pixels (blur fusion), so that no halo of
   the old backdrop stays on the edge once the cutout stands on another background.

`finish_segmentation` adds the warnings every segmenter gives (nothing found, low
confidence); `check_photo` is what every segmenter accepts; `crop_to_alpha` trims a
cutout to its product (the stored cutout, the retouched product).

Mattes follow `adforge.specs`: float32 (H, W) in [0, 1]; images uint8 RGB / RGBA.
"""

from __future__ import annotations

import cv2
import numpy as np

from adforge.errors import ImageInputError

UNSURE = 0.02  # alpha this far from 0 or 1 is an edge pixel


def finish_cutout(
    image_rgb: np.ndarray,
    coarse_alpha: np.ndarray,
    *,
    feather_px: float = 1.5,
    refine_radius: int | None = None,
    refine_eps: float = 1e-3,
) -> np.ndarray:
    """An RGBA cutout (uint8, the photo's size) from a photo and a coarse alpha.

    coarse_alpha: float in [0, 1] (or bool), any size with the photo's aspect ratio.
    feather_px: width of the soft edge in pixels; 0 keeps the refined alpha as it is
        (for mattes with real partial transparency: hair, glass).
    refine_radius: guided-filter radius in photo pixels; default twice the upscale
        factor of the coarse alpha (at least 2).
    """
    _check_inputs(image_rgb, coarse_alpha, feather_px)
    height, width = image_rgb.shape[:2]
    # 1. Coarse alpha to full resolution.
    alpha = resize_alpha(coarse_alpha, (height, width))
    radius = refine_radius or max(2, round(2 * max(height, width) / max(coarse_alpha.shape)))
    window = _edge_window(alpha, 3 * radius)
    if window is not None:
        # 2.-3. Edge-aware refinement and feathering, only around the edge.
        image = image_rgb[window].astype(np.float32) / 255.0
        refined = guided_filter(image, alpha[window], radius, refine_eps)
        if feather_px > 0:
            refined = feather_edge(refined, feather_px)
            refined = unmix_edge(image, refined, reach=2 * radius + 4)
        alpha[window] = refined
    np.clip(alpha, 0.0, 1.0, out=alpha)
    # 4. Foreground colours free of the old backdrop.
    foreground = decontaminate(image_rgb, alpha, radius)
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = foreground
    rgba[..., 3] = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return rgba


def finish_segmentation(
    image_rgb: np.ndarray,
    coarse_alpha: np.ndarray,
    confidence: float,
    *,
    feather_px: float,
    min_confidence: float,
    nothing_found: str | None,
    doubt: str,
) -> tuple[np.ndarray, list[str]]:
    """A segmenter's result from its coarse alpha: the cutout (`finish_cutout`) and its
    warnings (never an exception).

    confidence: the segmenter's own 0..1; below `min_confidence` a warning says `doubt`
        (what makes the mask unsure).
    nothing_found: why no product was found (a warning), None when one was.
    """
    rgba = finish_cutout(image_rgb, coarse_alpha, feather_px=feather_px)
    warnings = []
    if nothing_found is not None:
        warnings.append(f"no product found: {nothing_found}")
    if confidence < min_confidence:
        warnings.append(f"low segmentation confidence {confidence:.2f}: {doubt}; "
                        "check the cutout")
    return rgba, warnings


def crop_to_alpha(rgba: np.ndarray, pad: int = 4, *, threshold: float = 0.02) -> np.ndarray:
    """The cutout cropped to its product: the bounding box of the pixels whose alpha is
    at least `threshold` (0..1; 1/255 keeps every pixel with any coverage), widened by
    `pad` pixels each side and clipped to the image. A view, not a copy.

    The default ignores the faint haze a matte leaves far from the product, so the crop
    hugs what is visible; raises ImageInputError when no pixel reaches the threshold.
    """
    x, y, width, height = cv2.boundingRect((rgba[..., 3] >= threshold * 255.0).view(np.uint8))
    if width == 0 or height == 0:
        raise ImageInputError("the cutout is empty: no product was found in the photo",
                              field="image")
    rows, cols = rgba.shape[:2]
    return rgba[max(0, y - pad):min(rows, y + height + pad),
                max(0, x - pad):min(cols, x + width + pad)]


def check_photo(image: np.ndarray) -> None:
    """What every segmenter takes: an 8-bit RGB photo of at least 16 pixels a side."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise ValueError(f"segment() needs an RGB photo as uint8 (H, W, 3), got {shape}; "
                         "convert RGBA/grey/16-bit photos to 8-bit RGB first")
    if min(image.shape[:2]) < 16:
        raise ValueError(f"photo of {image.shape[1]}x{image.shape[0]} is too small to segment;"
                         " use at least 16 pixels on each side")


def resize_alpha(alpha: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A float32 copy of the alpha at (height, width), bilinear."""
    alpha = alpha.astype(np.float32)
    if alpha.shape == shape:
        return alpha.copy()
    return cv2.resize(alpha, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float,
                  subsample: int = 2) -> np.ndarray:
    """He et al.'s fast guided filter with a colour guide (float32 RGB in 0..1).

    The output follows `source` in flat areas and snaps its transitions to the guide's
    edges. eps: how much guide variance counts as an edge (in (0..1 intensity)^2).
    The linear coefficients are solved at 1/subsample resolution and applied at full.
    """
    height, width = source.shape
    small = (max(1, width // subsample), max(1, height // subsample))
    guide_s = cv2.resize(guide, small, interpolation=cv2.INTER_AREA)
    source_s = cv2.resize(source, small, interpolation=cv2.INTER_AREA)
    kernel = (2 * max(1, radius // subsample) + 1,) * 2

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, kernel, borderType=cv2.BORDER_REFLECT)

    channels = [np.ascontiguousarray(guide_s[..., c]) for c in range(3)]
    mean_i = [box(c) for c in channels]
    mean_p = box(source_s)
    cov_ip = [box(c * source_s) - m * mean_p for c, m in zip(channels, mean_i, strict=True)]
    var = {(i, j): box(channels[i] * channels[j]) - mean_i[i] * mean_i[j]
           for i in range(3) for j in range(i, 3)}
    for i in range(3):
        var[i, i] += eps
    a = _solve_symmetric3(var, cov_ip)
    b = mean_p - sum(a_c * m for a_c, m in zip(a, mean_i, strict=True))
    coef = cv2.merge([box(x) for x in (*a, b)])
    coef = cv2.resize(coef, (width, height), interpolation=cv2.INTER_LINEAR)
    return (coef[..., 0] * guide[..., 0] + coef[..., 1] * guide[..., 1]
            + coef[..., 2] * guide[..., 2] + coef[..., 3])


def feather_edge(soft: np.ndarray, feather_px: float) -> np.ndarray:
    """A clean edge `feather_px` wide, centred where the soft alpha crosses 0.5.

    (soft - 0.5) / |grad soft| approximates the signed distance to the 0.5 contour in
    pixels, at sub-pixel precision; a linear ramp over that distance is the new alpha.
    """
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    slope = np.sqrt(gx * gx + gy * gy) + 1e-6
    distance = (soft - 0.5) / slope
    return np.clip(0.5 + distance / feather_px, 0.0, 1.0)


def unmix_edge(image: np.ndarray, alpha: np.ndarray, reach: int,
               contrast: float = 0.12) -> np.ndarray:
    """Edge alpha from colour mixing: each edge pixel's position between the local pure
    foreground colour F and backdrop colour B, a = (I - B).(F - B) / |F - B|^2.

    A blurred or anti-aliased photo gets an edge as soft as it really is, and the
    contour sits where the colours say, not where a coarse mask put it. Where F and B
    are alike (below `contrast`, in 0..1 RGB), or the pixel's colour is no mix of the
    two, the given alpha is kept.
    """
    kernel = np.ones((3, 3), np.uint8)
    sure_fg = cv2.erode((alpha >= 1.0 - UNSURE).astype(np.uint8), kernel, iterations=2)
    sure_bg = cv2.erode((alpha <= UNSURE).astype(np.uint8), kernel, iterations=2)
    edge = cv2.dilate(((alpha > UNSURE) & (alpha < 1.0 - UNSURE)).astype(np.uint8), kernel,
                      iterations=2) > 0
    size = (2 * reach + 1, 2 * reach + 1)
    fg, fg_weight = _masked_mean(image, sure_fg, size)
    bg, bg_weight = _masked_mean(image, sure_bg, size)
    where = edge & (sure_fg == 0) & (sure_bg == 0) & (fg_weight > 0.05) & (bg_weight > 0.05)
    # Per edge pixel only: (N, 3) colours.
    pixel, fg, bg = image[where], fg[where], bg[where]
    span = fg - bg
    power = np.einsum("ij,ij->i", span, span)
    mixed = np.clip(np.einsum("ij,ij->i", pixel - bg, span) / (power + 1e-6), 0.0, 1.0)
    # Trust the mix only where F and B differ and the pixel lies on the line between
    # them (a product's own dark rim or a texture does not).
    off_line = pixel - bg - mixed[:, None] * span
    distance = np.sqrt(np.einsum("ij,ij->i", off_line, off_line))
    on_line = np.clip(1.0 - 2.0 * distance / np.sqrt(power + 1e-6), 0.0, 1.0)
    trust = power / (power + contrast**2) * on_line
    out = alpha.astype(np.float32, copy=True)
    out[where] = trust * mixed + (1.0 - trust) * alpha[where]
    return out


def _masked_mean(image: np.ndarray, mask: np.ndarray,
                 size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    weight = cv2.blur(mask.astype(np.float32), size)
    total = cv2.blur(image * cv2.merge([mask.astype(np.float32)] * 3), size)
    return total / (weight[..., None] + 1e-6), weight


def decontaminate(image_rgb: np.ndarray, alpha: np.ndarray, radius: int) -> np.ndarray:
    """Foreground colours (uint8 RGB) with the backdrop's contribution removed at edges.

    Blur fusion (Forte & Pitie 2021): local means of foreground and backdrop colours,
    weighted by alpha and 1 - alpha, then one correction step of the compositing
    equation I = a*F + (1-a)*B. A coarse pass (quarter resolution, wide reach) finds
    far backdrop pixels; a fine pass (radius) keeps detail. Pixels with alpha 1 keep
    the photo's colour; transparent ones near the edge get the foreground estimate, so
    that resizing the cutout bleeds no backdrop colour into the edge.
    """
    out = image_rgb.copy()
    window = _edge_window(alpha, 2 * radius + 2)
    if window is None:
        return out
    coarse_fg, coarse_bg = _coarse_estimates(image_rgb, alpha, window)
    image = image_rgb[window].astype(np.float32) / 255.0
    a = cv2.merge([alpha[window]] * 3)
    fg, _ = _blur_fusion(image, a, coarse_fg, coarse_bg, max(2, radius))
    solved = np.where(a >= 1.0, image, np.clip(fg, 0.0, 1.0))
    out[window] = (solved * 255.0 + 0.5).astype(np.uint8)
    return out


def _coarse_estimates(image_rgb: np.ndarray, alpha: np.ndarray,
                      window: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """First blur-fusion pass at quarter resolution, reaching 2% of the frame."""
    height, width = alpha.shape
    small_size = (max(8, width // 4), max(8, height // 4))
    image = cv2.resize(image_rgb, small_size, interpolation=cv2.INTER_AREA)
    image = image.astype(np.float32) / 255.0
    a = cv2.merge([cv2.resize(alpha, small_size, interpolation=cv2.INTER_AREA)] * 3)
    reach = max(2, round(0.005 * max(height, width)))
    fg, bg = _blur_fusion(image, a, image, image, reach)
    fg_full, bg_full = (cv2.resize(x, (width, height), interpolation=cv2.INTER_LINEAR)[window]
                        for x in (fg, bg))
    return fg_full, bg_full


def _blur_fusion(image: np.ndarray, a: np.ndarray, fg: np.ndarray, bg: np.ndarray,
                 radius: int) -> tuple[np.ndarray, np.ndarray]:
    """One blur-fusion step; a is alpha repeated over 3 channels (same shape as image)."""
    size = (2 * radius + 1, 2 * radius + 1)
    rest = 1.0 - a
    fg_mean = cv2.blur(fg * a, size) / (cv2.blur(a, size) + 1e-5)
    bg_mean = cv2.blur(bg * rest, size) / (cv2.blur(rest, size) + 1e-5)
    residual = image - a * fg_mean - rest * bg_mean
    return fg_mean + a * residual, bg_mean + rest * residual


def _edge_window(alpha: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """The box around every partial pixel, grown by margin; None when there is none."""
    unsure = ((alpha > UNSURE) & (alpha < 1.0 - UNSURE)).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(unsure)
    if w == 0:
        return None
    height, width = alpha.shape
    return (slice(max(0, y - margin), min(height, y + h + margin)),
            slice(max(0, x - margin), min(width, x + w + margin)))


def _solve_symmetric3(m: dict[tuple[int, int], np.ndarray],
                      rhs: list[np.ndarray]) -> list[np.ndarray]:
    """Per-pixel solution of a symmetric 3x3 system (Cramer's rule via the adjugate)."""
    c00 = m[1, 1] * m[2, 2] - m[1, 2] * m[1, 2]
    c01 = m[0, 2] * m[1, 2] - m[0, 1] * m[2, 2]
    c02 = m[0, 1] * m[1, 2] - m[0, 2] * m[1, 1]
    c11 = m[0, 0] * m[2, 2] - m[0, 2] * m[0, 2]
    c12 = m[0, 1] * m[0, 2] - m[0, 0] * m[1, 2]
    c22 = m[0, 0] * m[1, 1] - m[0, 1] * m[0, 1]
    det = m[0, 0] * c00 + m[0, 1] * c01 + m[0, 2] * c02
    x, y, z = rhs
    return [(c00 * x + c01 * y + c02 * z) / det,
            (c01 * x + c11 * y + c12 * z) / det,
            (c02 * x + c12 * y + c22 * z) / det]


def _check_inputs(image_rgb: np.ndarray, coarse_alpha: np.ndarray, feather_px: float) -> None:
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ValueError(f"image_rgb must be uint8 (H, W, 3), got {image_rgb.dtype} "
                         f"{image_rgb.shape}; convert the photo to RGB first")
    if coarse_alpha.ndim != 2:
        raise ValueError(f"coarse_alpha must be 2-D (H, W), got shape {coarse_alpha.shape}")
    ratio_image = image_rgb.shape[1] / image_rgb.shape[0]
    ratio_alpha = coarse_alpha.shape[1] / coarse_alpha.shape[0]
    if abs(np.log(ratio_image / ratio_alpha)) > 0.05:
        raise ValueError(f"coarse_alpha {coarse_alpha.shape} does not have the photo's aspect "
                         f"ratio {image_rgb.shape[:2]}; pass a matte of the whole photo")
    if feather_px < 0:
        raise ValueError(f"feather_px must be >= 0, got {feather_px}")
