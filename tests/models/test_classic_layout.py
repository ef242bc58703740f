"""Classic layout + typesetting on real pixels: clean side, clear of the product, readable."""

from __future__ import annotations

import numpy as np
import pytest

from adforge.brandkit import BrandColors, BrandKit, default_brand_kit
from adforge.imaging.color import min_contrast
from adforge.imaging.typeset import hex_contrast
from adforge.specs import PRESETS, AdCopy, LayoutSpec, PixelBox, TextRole
from models.classic.layout import ClassicLayoutAnalyzer, least_underlay
from models.classic.text import TypesetRenderer
from models.contracts import LayoutAnalyzer, TextRenderer, TextResult

COPY = AdCopy(headline="봄맞이 한정 세일", subline="Fresh spring picks, up to 30% off",
              cta="Shop now", language="ko")
SQUARE_SAFE = PRESETS["instagram_post"].safe_area.to_pixels(1080, 1080)


def smooth(height: int = 1080, width: int = 1080, top: int = 236, bottom: int = 214):
    ramp = np.linspace(top, bottom, height, dtype=np.float32)[:, None, None]
    return np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8).copy()


def with_product(image: np.ndarray, box: PixelBox) -> np.ndarray:
    image[box.y0:box.y1, box.x0:box.x1] = (150, 150, 150)
    return image


def lay_out(image: np.ndarray, product: PixelBox, safe: PixelBox = SQUARE_SAFE,
            copy: AdCopy = COPY,
            brand: BrandKit | None = None) -> tuple[LayoutSpec, TextResult]:
    brand = brand or default_brand_kit()
    spec = ClassicLayoutAnalyzer().analyze(image, product, copy, brand, safe)
    return spec, TypesetRenderer().render(image, spec, copy, brand)


def pixel_boxes(spec: LayoutSpec, image: np.ndarray) -> dict[TextRole, PixelBox]:
    height, width = image.shape[:2]
    return {b.role: b.box.to_pixels(width, height) for b in spec.boxes}


def assert_sound(image: np.ndarray, product: PixelBox, safe: PixelBox, spec: LayoutSpec,
                 result: TextResult) -> None:
    """Inside the safe area, clear of the product, every ink box at >= 4.5:1 on its backing."""
    for role, box in pixel_boxes(spec, image).items():
        assert safe.contains(box), (role, box, safe)
        assert box.intersection(product) == 0, (role, box, product)
    colors = {b.role: b.color for b in spec.boxes}
    for fit in result.fits:
        ink = fit.box
        under = result.backing[ink.y0:ink.y1, ink.x0:ink.x1]
        assert under.size > 0 and not fit.ellipsized
        assert min_contrast(colors[fit.role], under) >= 4.5, (fit.role, colors[fit.role])


def busy_on(side: str) -> np.ndarray:
    """Noise and stripes on one half, smooth on the other."""
    image = smooth()
    rng = np.random.default_rng(7)
    half = slice(0, 540) if side == "left" else slice(540, 1080)
    noise = rng.integers(0, 256, (1080, 540, 1), dtype=np.uint8).repeat(3, axis=2)
    stripes = ((np.arange(540) // 12) % 2 * 180).astype(np.uint8)[None, :, None]
    image[:, half] = np.maximum(noise // 2, stripes)
    return image


@pytest.mark.parametrize("busy_side", ["left", "right"])
def test_text_goes_to_the_clean_side(busy_side: str) -> None:
    product = PixelBox(440, 560, 640, 960)
    image = with_product(busy_on(busy_side), product)
    spec, result = lay_out(image, product)

    assert_sound(image, product, SQUARE_SAFE, spec, result)
    for box in pixel_boxes(spec, image).values():
        assert (box.x0 >= 540) if busy_side == "left" else (box.x1 <= 540)


def test_smooth_square_frame_puts_copy_beside_the_product_without_a_panel() -> None:
    product = PixelBox(590, 320, 990, 920)
    image = with_product(smooth(), product)
    spec, result = lay_out(image, product)

    assert_sound(image, product, SQUARE_SAFE, spec, result)
    assert spec.underlay is None and spec.reason
    boxes = pixel_boxes(spec, image)
    assert [b.role for b in spec.boxes] == [TextRole.headline, TextRole.subline, TextRole.cta]
    assert boxes[TextRole.headline].y1 <= boxes[TextRole.subline].y0
    assert boxes[TextRole.subline].y1 <= boxes[TextRole.cta].y0
    assert all(box.x1 <= product.x0 for box in boxes.values())


def test_mid_grey_background_gets_an_underlay_that_reaches_the_target() -> None:
    product = PixelBox(590, 320, 990, 920)
    image = with_product(smooth(top=120, bottom=120), product)  # neither dark nor light text
    spec, result = lay_out(image, product)

    assert spec.underlay is not None
    assert_sound(image, product, SQUARE_SAFE, spec, result)


def test_half_black_half_white_background_gets_an_underlay() -> None:
    product = PixelBox(590, 100, 990, 980)  # leaves only a column, split down the middle
    image = smooth()
    image[:, :295] = 0
    image[:, 295:] = 255
    image = with_product(image, product)
    spec, result = lay_out(image, product)

    assert spec.underlay is not None
    assert_sound(image, product, SQUARE_SAFE, spec, result)


def test_least_underlay_lifts_every_pixel_to_the_target() -> None:
    pixels = np.concatenate([np.zeros((500, 3), np.uint8), np.full((500, 3), 255, np.uint8)])
    underlay, color, worst = least_underlay(pixels, default_brand_kit(), 4.6)

    assert worst >= 4.6
    blended = pixels + (np.array([int(underlay.color[i:i + 2], 16) for i in (1, 3, 5)])
                        - pixels.astype(float)) * underlay.opacity
    assert min_contrast(color, (blended + 0.5).astype(np.uint8)) >= 4.6


def test_story_respects_the_platform_safe_area() -> None:
    preset = PRESETS["instagram_story"]
    safe = preset.safe_area.to_pixels(preset.width, preset.height)
    product = PixelBox(270, 900, 810, 1480)
    image = with_product(smooth(preset.height, preset.width), product)
    spec, result = lay_out(image, product, safe)

    assert_sound(image, product, safe, spec, result)
    assert all(box.y1 <= product.y0 for box in pixel_boxes(spec, image).values())


def test_landscape_banner_and_a_missing_subline() -> None:
    product = PixelBox(780, 90, 1100, 560)
    image = with_product(smooth(600, 1200), product)
    safe = PRESETS["blog_header"].safe_area.to_pixels(1200, 600)
    copy = AdCopy(headline="Spring Sale", cta="Shop now", language="en")
    spec, result = lay_out(image, product, safe, copy)

    assert [b.role for b in spec.boxes] == [TextRole.headline, TextRole.cta]
    assert_sound(image, product, safe, spec, result)


def test_call_to_action_uses_the_accent_and_readable_text() -> None:
    brand = BrandKit(name="Grey", colors=BrandColors(accent="#777777", text_light="#EEEEEE",
                                                     text_dark="#444444"))
    product = PixelBox(590, 320, 990, 920)
    image = with_product(smooth(), product)
    spec, result = lay_out(image, product, brand=brand)

    cta = spec.box_for(TextRole.cta)
    assert cta is not None and cta.fill == "#777777"
    assert hex_contrast(cta.color, cta.fill) >= 4.5
    assert_sound(image, product, SQUARE_SAFE, spec, result)


def test_backends_implement_the_contracts() -> None:
    assert isinstance(ClassicLayoutAnalyzer(), LayoutAnalyzer)
    assert isinstance(TypesetRenderer(), TextRenderer)
