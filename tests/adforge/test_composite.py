"""Compositing and retouch: colour, the ΔE bound, cropping, the placement rule, shadows
and layers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adforge.errors import ImageInputError
from adforge.imaging.color import lab_to_srgb, mean_delta_e, srgb_to_lab
from adforge.imaging.composite import (
    RETOUCH_PAD,
    Layers,
    compose_layers,
    light_of,
    place_product,
    retouch_product,
)
from adforge.imaging.matte import crop_to_alpha
from adforge.specs import PixelBox, Placement

FRAMES = [(1080, 1920), (1200, 600), (600, 400), (1080, 1080), (1080, 1350), (1200, 630),
          (64, 48)]
PRODUCTS = [(300, 900), (900, 300), (500, 500), (37, 1000), (1000, 41), (7, 5)]
ANCHORS = ["auto", "center", "left", "right", "top", "bottom"]


def _cutout(width: int = 320, height: int = 420, color=(205, 30, 45), seed: int = 0
            ) -> np.ndarray:
    """A saturated, shaded, rounded product with an anti-aliased edge, on a photo canvas."""
    rng = np.random.default_rng(seed)
    canvas_h, canvas_w = height + 80, width + 60
    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w].astype(np.float32)
    cx, cy, rx, ry = canvas_w / 2, canvas_h / 2, width / 2, height / 2
    distance = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    alpha = np.clip((1.0 - distance) * min(rx, ry) + 0.5, 0.0, 1.0)
    shade = np.clip(1.15 - 0.7 * ((xx - cx + 0.3 * rx) / rx) ** 2, 0.25, 1.15)
    rgb = np.array(color, np.float32) * shade[..., None]
    rgb[(np.abs(yy - cy) < 0.1 * ry)] = (245, 240, 230)  # a label band
    rgb += rng.normal(0.0, 3.0, rgb.shape)
    rgba = np.dstack([np.clip(rgb, 0, 255), alpha * 255.0 + 0.5]).astype(np.uint8)
    rgba[alpha == 0, :3] = 0  # what a careless cutout leaves outside the product
    return rgba


def _backdrop(width: int, height: int, color=(214, 208, 200)) -> np.ndarray:
    ramp = np.linspace(1.05, 0.9, height, dtype=np.float32)[:, None, None]
    return np.clip(np.array(color, np.float32) * ramp + np.zeros((1, width, 1)), 0, 255
                   ).astype(np.uint8)


def _tight_crop(rgba: np.ndarray) -> np.ndarray:
    x, y, w, h = cv2.boundingRect(rgba[..., 3])
    pad = RETOUCH_PAD
    return rgba[max(0, y - pad): y + h + pad, max(0, x - pad): x + w + pad]


def _aspect_error(box: PixelBox, product: tuple[int, int]) -> float:
    """How far (px) the box's short side is from what the product's aspect asks."""
    pw, ph = product
    if pw >= ph:
        return abs(box.width * ph / pw - box.height)
    return abs(box.height * pw / ph - box.width)


# --------------------------------------------------------------------------- colour


def test_srgb_to_lab_matches_the_cie_formula() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    c = rgb / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    matrix = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
                       [0.019334, 0.119193, 0.950227]])
    xyz = linear @ matrix.T / np.array([0.950456, 1.0, 1.088754])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    expected = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                         200 * (f[..., 1] - f[..., 2])], axis=-1)
    assert np.abs(srgb_to_lab(rgb) - expected).max() < 0.01
    assert np.array_equal(lab_to_srgb(srgb_to_lab(rgb)), rgb)
    pixels = rgb.reshape(-1, 3)  # any leading shape, pixel by pixel the same numbers
    assert np.array_equal(srgb_to_lab(pixels), srgb_to_lab(rgb).reshape(-1, 3))


def test_mean_delta_e_inside_a_mask() -> None:
    grey = np.full((4, 4, 3), 128, np.uint8)
    moved = grey.copy()
    moved[:2] = (128, 128, 148)
    inside = np.zeros((4, 4), bool)
    inside[:2] = True
    expected = float(np.linalg.norm(srgb_to_lab(moved)[0, 0] - srgb_to_lab(grey)[0, 0]))
    assert mean_delta_e(grey, moved, inside) == pytest.approx(expected, rel=1e-6)
    assert mean_delta_e(grey, moved, ~inside) == 0.0
    assert mean_delta_e(grey, moved) == pytest.approx(expected / 2, rel=1e-6)
    assert mean_delta_e(grey, moved, np.zeros((4, 4), bool)) == 0.0  # an empty mask


def test_light_of_is_the_backdrop_colour_near_the_box() -> None:
    background = _backdrop(400, 300)
    background[:, :100] = (10, 200, 10)  # far away: must not count
    light = light_of(background, PixelBox(250, 150, 330, 260))
    expected = background[150:280, 210:370].reshape(-1, 3).mean(axis=0)
    assert np.abs(light - expected).max() < 4.0


# --------------------------------------------------------------------------- retouch


@pytest.mark.parametrize("bound", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("light", [(40, 90, 230), (250, 180, 40), (20, 20, 20)])
def test_delta_e_bound_holds_for_strong_harmonise(bound: float, light) -> None:
    cutout = _cutout()
    result = retouch_product(cutout, np.array(light), harmonise=1.0, max_delta_e=bound,
                             sharpen=1.5, contrast=1.2)
    assert result.delta_e <= bound
    original = _tight_crop(cutout)
    assert result.rgba.shape == original.shape
    mask = original[..., 3] >= 128
    measured = mean_delta_e(original[..., :3], result.rgba[..., :3], mask)
    assert measured <= bound + 0.05  # the shared (OpenCV) metric agrees
    assert result.delta_e > 0.5 * bound  # the edit is kept up to the bound, not dropped


def test_typical_retouch_is_gentle_and_keeps_alpha() -> None:
    cutout = _cutout(color=(60, 110, 170))
    result = retouch_product(cutout, (214, 208, 200))
    assert 0.0 < result.delta_e <= 3.0
    assert np.array_equal(result.rgba[..., 3], _tight_crop(cutout)[..., 3])


def test_zero_bound_returns_the_original_pixels() -> None:
    cutout = _cutout()
    result = retouch_product(cutout, (40, 90, 230), harmonise=1.0, max_delta_e=0.0)
    assert result.delta_e == 0.0
    assert np.array_equal(result.rgba, _tight_crop(cutout))


def test_retouch_crops_tight_around_the_alpha() -> None:
    cutout = _cutout(width=200, height=100)
    x, y, w, h = cv2.boundingRect(cutout[..., 3])
    result = retouch_product(cutout, (200, 200, 200))
    assert result.rgba.shape[:2] == (h + 2 * RETOUCH_PAD, w + 2 * RETOUCH_PAD)


@pytest.mark.parametrize("kwargs", [{"harmonise": 1.5}, {"max_delta_e": -1.0},
                                    {"contrast": 2.0}, {"sharpen": -0.1}])
def test_retouch_rejects_bad_parameters(kwargs) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        retouch_product(_cutout(), (200, 200, 200), **kwargs)


# --------------------------------------------------------------------------- cropping


def test_crop_to_alpha_ignores_faint_haze_by_default() -> None:
    rgba = np.zeros((50, 60, 4), np.uint8)
    rgba[20:30, 25:40, 3] = 255
    rgba[2, 3, 3] = 5  # below 2 % coverage: haze
    rgba[45, 55, 3] = 6  # at 2 %: counted
    crop = crop_to_alpha(rgba)
    assert crop.shape[:2] == (min(50, 46 + 4) - 16, min(60, 56 + 4) - 21)
    assert np.shares_memory(crop, rgba)  # a view
    assert crop_to_alpha(rgba, 0, threshold=1 / 255).shape[:2] == (44, 53)  # any coverage
    assert crop_to_alpha(rgba, 2, threshold=0.5).shape[:2] == (14, 19)


def test_crop_to_alpha_of_an_empty_cutout_names_the_image() -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[5, 5, 3] = 5
    with pytest.raises(ImageInputError, match="cutout is empty") as caught:
        crop_to_alpha(rgba)
    assert caught.value.field == "image"


def test_retouch_rejects_an_empty_cutout() -> None:
    with pytest.raises(ValueError, match="empty alpha"):
        retouch_product(np.zeros((20, 20, 4), np.uint8), (200, 200, 200))


# --------------------------------------------------------------------------- placement


@pytest.mark.parametrize("frame", FRAMES)
def test_product_box_lies_inside_and_keeps_its_aspect(frame) -> None:
    fw, fh = frame
    for product in PRODUCTS:
        pw, ph = product
        for anchor in ANCHORS:
            for area in (0.05, 0.22, 0.5, 0.8):
                placement = Placement(anchor=anchor, area_fraction=area)
                box = place_product(product, frame, placement)
                inset = round(placement.margin * min(fw, fh))
                bounds = PixelBox(inset, inset, fw - inset, fh - inset)
                assert bounds.contains(box), (product, frame, anchor, area, box)
                assert box.width >= 1 and box.height >= 1
                assert _aspect_error(box, product) <= 1.0, (product, frame, box)


def test_area_follows_the_fraction_when_it_fits() -> None:
    box = place_product((500, 500), (1080, 1080), Placement(anchor="center", area_fraction=0.22))
    assert box.area == pytest.approx(0.22 * 1080 * 1080, rel=0.02)


def test_box_shrinks_to_fit_the_given_bounds() -> None:
    bounds = PixelBox(100, 50, 400, 250)
    box = place_product((300, 900), (1200, 600), Placement(area_fraction=0.8), bounds)
    assert bounds.contains(box)
    assert box.height == bounds.height


def test_auto_is_right_in_landscape_and_bottom_otherwise() -> None:
    landscape = place_product((400, 400), (1200, 600), Placement())
    inset = round(0.06 * 600)
    assert landscape.x1 == 1200 - inset
    assert landscape.y0 + landscape.height / 2 > 300  # a little below the middle
    for frame in [(1080, 1920), (1080, 1080), (1080, 1350)]:
        box = place_product((400, 400), frame, Placement())
        inset = round(0.06 * min(frame))
        assert box.y1 == frame[1] - inset  # low, but not glued to the edge
        assert abs((box.x0 + box.x1) / 2 - frame[0] / 2) <= 1


def test_left_and_right_mirror_each_other() -> None:
    left = place_product((300, 500), (1200, 630), Placement(anchor="left"))
    right = place_product((300, 500), (1200, 630), Placement(anchor="right"))
    assert (left.y0, left.y1) == (right.y0, right.y1)
    assert left.x0 == 1200 - right.x1


# --------------------------------------------------------------------------- layers


def _compose(frame=(900, 700), light_x: float = 0.35) -> tuple[Layers, np.ndarray]:
    fw, fh = frame
    background = _backdrop(fw, fh)
    product = retouch_product(_cutout(), (214, 208, 200)).rgba
    box = place_product((product.shape[1], product.shape[0]), frame, Placement())
    return compose_layers(product, background, box, light_x=light_x), background


def test_layers_have_the_frame_shape_and_stay_separate() -> None:
    layers, background = _compose()
    h, w = background.shape[:2]
    assert layers.background.shape == (h, w, 3) and layers.background.dtype == np.uint8
    assert layers.shadow.shape == (h, w) and layers.shadow.dtype == np.float32
    assert layers.product.shape == (h, w, 4) and layers.product.dtype == np.uint8
    assert 0.0 <= layers.shadow.min() and layers.shadow.max() <= 1.0
    box = layers.product_box
    outside = layers.product[..., 3].copy()
    outside[box.y0:box.y1, box.x0:box.x1] = 0
    assert not outside.any()  # product pixels only inside its box
    before = background.copy()
    layers.flatten()
    assert np.array_equal(layers.background, before)  # flatten does not bake layers in


def test_shadow_darkens_under_the_base_and_nowhere_far() -> None:
    layers, _ = _compose()
    box, alpha = layers.product_box, layers.product[..., 3]
    base = int(np.flatnonzero(alpha.any(axis=1))[-1])
    centre_x = (box.x0 + box.x1) // 2
    assert layers.shadow[base + 1: base + 4, centre_x - 10: centre_x + 10].mean() > 0.25
    assert layers.shadow[:40, :40].max() == 0.0
    assert layers.shadow[: box.y0 - 10].max() == 0.0  # nothing above the product


def test_cast_shadow_falls_away_from_the_key_light() -> None:
    for light_x, far_side in [(0.1, "right"), (0.9, "left")]:
        layers, _ = _compose(light_x=light_x)
        box = layers.product_box
        rows = slice(box.y1 - box.height // 4, box.y1)
        right = layers.shadow[rows, box.x1: box.x1 + box.width // 2].sum()
        left = layers.shadow[rows, max(0, box.x0 - box.width // 2): box.x0].sum()
        assert (right > 2 * left) if far_side == "right" else (left > 2 * right)


def test_flatten_equals_background_where_nothing_is_drawn() -> None:
    layers, background = _compose()
    image = layers.flatten()
    untouched = (layers.shadow == 0) & (layers.product[..., 3] == 0)
    assert untouched.mean() > 0.5
    assert np.array_equal(image[untouched], background[untouched])
    opaque = layers.product[..., 3] == 255
    assert np.array_equal(image[opaque], layers.product[..., :3][opaque])


def test_product_keeps_its_aspect_inside_a_mismatched_box() -> None:
    background = _backdrop(600, 400)
    product = _cutout(width=100, height=300)
    layers = compose_layers(product, background, PixelBox(100, 50, 500, 350))
    box = layers.product_box
    assert PixelBox(100, 50, 500, 350).contains(box)
    assert box.y1 == 350  # standing on the box's floor
    assert _aspect_error(box, (product.shape[1], product.shape[0])) <= 1.0


def test_compose_near_the_frame_edge() -> None:
    background = _backdrop(300, 200)
    product = _cutout(width=80, height=120)
    for box in [PixelBox(0, 40, 110, 200), PixelBox(190, 0, 300, 160)]:
        layers = compose_layers(product, background, box, light_x=0.9)
        assert layers.flatten().shape == (200, 300, 3)


def test_compose_rejects_a_box_outside_the_frame() -> None:
    with pytest.raises(ValueError, match="inside"):
        compose_layers(_cutout(), _backdrop(300, 200), PixelBox(250, 10, 350, 150))
