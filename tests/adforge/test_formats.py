"""Delivery formats: the encoder (format, sRGB, budget step-down) and who chooses what."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from adforge.brandkit import BrandKit
from adforge.formats import (
    DeliveryFormat,
    FormatOverride,
    delivery_format,
    encode_delivery,
    parse_row_formats,
)
from adforge.samples import render_sample


@pytest.fixture(scope="module")
def ad() -> np.ndarray:
    """A grainy studio photo at story size: hard to compress, like a real ad."""
    rgb, _ = render_sample("bottle", size=960, seed=3, backdrop="graded")
    story = np.asarray(Image.fromarray(rgb).resize((1080, 1920)))
    noise = np.random.default_rng(0).integers(-6, 7, story.shape)
    return np.clip(story.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _profile_name(image: Image.Image) -> str:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    return ImageCms.getProfileDescription(profile).strip()


@pytest.mark.parametrize(("name", "pillow_format"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_lossy_formats_carry_the_srgb_profile_and_nothing_else(
        ad: np.ndarray, name: str, pillow_format: str) -> None:
    encoded = encode_delivery(ad, DeliveryFormat(format=name))
    with Image.open(io.BytesIO(encoded.data)) as image:
        assert image.format == pillow_format and image.size == (1080, 1920)
        assert "sRGB" in _profile_name(image)
        assert not image.getexif()
        assert not image.info.get("progressive")  # JPEG: baseline (fast); WebP has none
    assert encoded.quality == 88 and encoded.content_type == f"image/{name}"


def test_png_is_lossless_and_marked_srgb(ad: np.ndarray) -> None:
    encoded = encode_delivery(ad, DeliveryFormat(format="png"))
    with Image.open(io.BytesIO(encoded.data)) as image:
        assert image.format == "PNG" and image.info.get("srgb") == 0  # perceptual
        assert np.array_equal(np.asarray(image.convert("RGB")), ad)


def test_quality_steps_down_to_the_highest_that_fits(ad: np.ndarray) -> None:
    full = encode_delivery(ad, DeliveryFormat())
    budget = len(full.data) * 2 // 3
    fitted = encode_delivery(ad, DeliveryFormat(max_bytes=budget))
    assert len(fitted.data) <= budget < len(full.data)
    assert 60 <= fitted.quality < 88
    one_up = encode_delivery(ad, DeliveryFormat(quality=fitted.quality + 1))
    assert len(one_up.data) > budget  # the highest quality that fits, not just any


def test_a_budget_below_the_floor_is_not_met_and_says_so(ad: np.ndarray) -> None:
    encoded = encode_delivery(ad, DeliveryFormat(max_bytes=5_000, min_quality=70))
    assert encoded.quality == 70 and len(encoded.data) > 5_000  # the bytes gate decides


def test_presets_kit_and_row_choose_in_that_order() -> None:
    assert delivery_format("instagram_post") == DeliveryFormat()
    assert delivery_format("blog_thumbnail").max_bytes == 150_000
    kit = BrandKit(name="k", delivery={"*": {"format": "webp", "quality": 80},
                                       "blog_header": {"format": "png"}})
    row = parse_row_formats("instagram_post=jpeg:95")
    assert delivery_format("twitter_card", kit.delivery, row).format == "webp"
    assert delivery_format("blog_header", kit.delivery, row).format == "png"
    post = delivery_format("instagram_post", kit.delivery, row)
    assert (post.format, post.quality) == ("jpeg", 95)
    budget = delivery_format("instagram_post", kit.delivery, None,
                             max_bytes={"instagram_post": 90_000})
    assert budget.max_bytes == 90_000
    lowered = delivery_format("twitter_card", {"*": FormatOverride(quality=40)})
    assert (lowered.quality, lowered.min_quality) == (40, 40)


@pytest.mark.parametrize("cell", ["gif", "jpeg:0", "blog_header=tiff", "webp:101"])
def test_a_bad_format_cell_says_how_to_write_one(cell: str) -> None:
    with pytest.raises(ValueError, match="jpeg, png or webp|within 1-100"):
        parse_row_formats(cell)


def test_a_kit_naming_an_unknown_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown platform 'tiktok'"):
        BrandKit(name="k", delivery={"tiktok": {"format": "png"}})
