"""The classic segmenter and the shared matte finishing, on rendered product photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adforge.imaging.color import delta_e76, srgb_to_lab
from adforge.imaging.matte import finish_cutout
from adforge.samples import BACKDROPS, SAMPLE_KINDS, render_sample
from models.classic.segment import ClassicSegmenter
from models.contracts import Segmenter


@pytest.fixture(scope="module")
def segmenter() -> ClassicSegmenter:
    return ClassicSegmenter()


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    found = alpha >= 0.5
    return float((found & truth).sum() / (found | truth).sum())


def test_implements_the_segmenter_protocol(segmenter):
    assert isinstance(segmenter, Segmenter) and segmenter.name == "classic"


def test_cutouts_match_the_true_masks_over_every_kind_and_backdrop(segmenter):
    scores = {}
    for backdrop in BACKDROPS:
        for kind in SAMPLE_KINDS:
            photo, truth = render_sample(kind, size=512, seed=11, backdrop=backdrop)
            result = segmenter.segment(photo)
            assert result.rgba.shape == (512, 512, 4) and result.rgba.dtype == np.uint8
            assert result.confidence >= 0.5, (kind, backdrop, result.warnings)
            scores[kind, backdrop] = iou(result.alpha, truth)
    assert np.median(list(scores.values())) >= 0.95, scores
    assert min(scores.values()) >= 0.9, scores


@pytest.mark.parametrize(("kind", "backdrop"), [("shoe", "plain"), ("jar", "graded")])
def test_full_size_hard_cases(segmenter, kind, backdrop):
    """A dark shoe on a dark backdrop; a white jar on a light one."""
    photo, truth = render_sample(kind, size=1024, seed=3, backdrop=backdrop)
    assert iou(segmenter.segment(photo).alpha, truth) >= 0.97


def test_the_shadow_on_the_backdrop_stays_out_of_the_cutout(segmenter):
    photo, truth = render_sample("perfume", size=512, seed=5, backdrop="plain")
    alpha = segmenter.segment(photo).alpha
    grown = cv2.dilate(truth.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    lightness = srgb_to_lab(photo)[..., 0]
    backdrop_lightness = np.median(lightness[:40, :40])
    shadow = ~grown & (lightness < backdrop_lightness - 5)
    assert shadow.sum() > 500  # the sample does have a visible shadow
    assert alpha[shadow].mean() < 0.02


def cluttered_photo(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    photo = rng.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8)
    photo = cv2.resize(photo, (size, size), interpolation=cv2.INTER_NEAREST)
    for _ in range(60):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        if rng.random() < 0.5:
            cv2.circle(photo, (x, y), int(rng.integers(10, size // 5)), color, -1)
        else:
            w, h = (int(v) for v in rng.integers(10, size // 3, 2))
            cv2.rectangle(photo, (x, y), (x + w, y + h), color, -1)
    noise = rng.normal(0, 8, photo.shape)
    return np.clip(photo + noise, 0, 255).astype(np.uint8)


def test_a_cluttered_photo_gives_low_confidence_and_a_warning(segmenter):
    result = segmenter.segment(cluttered_photo(512, seed=1))
    assert result.rgba.shape == (512, 512, 4)
    assert result.confidence < 0.5
    assert any("low segmentation confidence" in w for w in result.warnings)


def test_an_empty_backdrop_is_reported_not_raised(segmenter):
    photo, _ = render_sample("mug", size=256, seed=0, backdrop="graded")
    empty = np.ascontiguousarray(np.broadcast_to(photo[:8, :8].mean(axis=(0, 1)),
                                                 photo.shape).astype(np.uint8))
    result = segmenter.segment(empty)
    assert result.confidence == 0.0 and result.alpha.max() == 0.0
    assert any("no product found" in w for w in result.warnings)


def test_a_product_touching_the_frame_still_gives_a_cutout(segmenter):
    photo, truth = render_sample("bottle", size=768, seed=2, backdrop="graded")
    bottom = int(np.nonzero(truth)[0].max()) - 40  # crop through the bottle's body
    photo, truth = np.ascontiguousarray(photo[:bottom, 100:]), truth[:bottom, 100:]
    result = segmenter.segment(photo)
    assert result.rgba.shape[:2] == photo.shape[:2]
    assert iou(result.alpha, truth) >= 0.9


def test_photos_that_are_not_8_bit_rgb_are_refused_with_the_fix(segmenter):
    with pytest.raises(ValueError, match="8-bit RGB"):
        segmenter.segment(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="8-bit RGB"):
        segmenter.segment(np.zeros((64, 64, 4), np.uint8))


# ----------------------------------------------------------------------------------------
# Edge colours: no halo of the old backdrop
# ----------------------------------------------------------------------------------------

def disc_photo(size: int, product: tuple, backdrop: tuple) -> tuple[np.ndarray, np.ndarray]:
    """A disc on a backdrop, drawn at 4x and downsampled, then softened like a lens."""
    big = np.empty((size * 4, size * 4, 3), np.uint8)
    big[:] = backdrop
    cv2.circle(big, (size * 2, size * 2), size, product, -1, cv2.LINE_AA)
    photo = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.0)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    truth = np.hypot(xx - size / 2, yy - size / 2) < size / 4
    return photo, truth


def edge_ring(truth: np.ndarray, width: int = 2) -> np.ndarray:
    kernel = np.ones((2 * width + 1,) * 2, np.uint8)
    grown = cv2.dilate(truth.astype(np.uint8), kernel) > 0
    shrunk = cv2.erode(truth.astype(np.uint8), kernel) > 0
    return grown & ~shrunk


def test_edge_colours_are_the_product_not_the_old_backdrop(segmenter):
    red, green = (200, 30, 40), (40, 190, 60)
    photo, truth = disc_photo(400, red, green)
    rgba = segmenter.segment(photo).rgba
    ring = edge_ring(truth) & (rgba[..., 3] > 25)
    product_lab = srgb_to_lab(np.array([[red]], np.uint8))[0, 0]
    backdrop_lab = srgb_to_lab(np.array([[green]], np.uint8))[0, 0]
    cutout_lab = srgb_to_lab(rgba[..., :3])[ring]
    photo_lab = srgb_to_lab(photo)[ring]
    to_product = delta_e76(cutout_lab, product_lab).mean()
    assert to_product < 0.5 * delta_e76(photo_lab, product_lab).mean()  # better than raw
    assert to_product < 0.3 * delta_e76(cutout_lab, backdrop_lab).mean()
    assert to_product < 12.0


def test_a_cutout_on_a_new_colour_shows_no_rim_of_the_old_backdrop(segmenter):
    photo, truth = render_sample("mug", size=512, seed=1, backdrop="plain")
    rgba = segmenter.segment(photo).rgba
    alpha = rgba[..., 3:].astype(np.float32) / 255.0
    blue = np.array([20, 40, 230], np.float32)
    composite = (rgba[..., :3] * alpha + blue * (1 - alpha)).astype(np.uint8)
    # The rim just inside the silhouette should look like the product just further in.
    rim = edge_ring(truth, 1) & truth
    inner = edge_ring(cv2.erode(truth.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0, 1)
    backdrop_lab = srgb_to_lab(photo[:30, :30]).reshape(-1, 3).mean(axis=0)
    rim_lab = srgb_to_lab(composite)[rim]
    product_lab = srgb_to_lab(photo)[inner].mean(axis=0)
    assert delta_e76(rim_lab, product_lab).mean() < delta_e76(rim_lab, backdrop_lab).mean()


def test_finish_cutout_refines_a_low_resolution_probability_map():
    """The neural path: a blurry quarter-size map becomes a crisp full-size edge."""
    photo, truth = disc_photo(400, (30, 30, 160), (230, 225, 215))
    coarse = cv2.resize(truth.astype(np.float32), (100, 100), interpolation=cv2.INTER_AREA)
    coarse = cv2.GaussianBlur(coarse, (0, 0), 1.5)
    rgba = finish_cutout(photo, coarse, feather_px=1.5)
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    assert rgba.shape == (400, 400, 4)
    assert iou(alpha, truth) >= 0.98
    partial = (alpha > 0.05) & (alpha < 0.95)
    assert partial.sum() < 3.0 * edge_ring(truth, 1).sum()  # about a pixel or two wide
