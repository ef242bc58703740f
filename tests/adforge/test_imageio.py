"""The one image loader: every awkward input a user can hand over, built here with Pillow."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from adforge.errors import ImageInputError
from adforge.imageio import decode_png, encode_png, load_image, save_png


def _encoded(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _gradient_rgb(width: int = 120, height: int = 80) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None].repeat(width, 1)
    return np.dstack([x, y, 255 - x]).astype(np.uint8)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims width x height (no pixel data at all)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


# --- orientation and modes -------------------------------------------------------------


def test_exif_orientation_6_turns_the_picture_upright() -> None:
    pixels = _gradient_rgb(120, 80)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encoded(Image.fromarray(pixels), "JPEG", exif=exif, quality=95)
    loaded = load_image(data, name="phone.jpg")
    assert loaded.rgb.shape == (120, 80, 3)
    assert loaded.source_size == (80, 120)
    assert "rotated by EXIF orientation 6" in loaded.notes
    expected = np.rot90(pixels, k=-1)  # orientation 6: rotate 90 degrees clockwise
    assert np.abs(loaded.rgb.astype(int) - expected.astype(int)).mean() < 4


def test_cmyk_is_converted_to_rgb() -> None:
    cmyk = Image.new("RGB", (80, 80), (200, 30, 30)).convert("CMYK")
    plain = load_image(_encoded(cmyk, "JPEG", quality=95), name="print.jpg")
    assert plain.rgb.dtype == np.uint8 and plain.rgb.shape == (80, 80, 3)
    assert "converted from CMYK" in plain.notes
    assert np.abs(plain.rgb[40, 40].astype(int) - (200, 30, 30)).max() <= 8


def test_cmyk_with_an_unusable_icc_profile_falls_back_with_a_note() -> None:
    cmyk = Image.new("RGB", (80, 80), (200, 30, 30)).convert("CMYK")
    srgb_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    loaded = load_image(_encoded(cmyk, "TIFF", icc_profile=srgb_icc), name="print.tif")
    assert loaded.notes == ["CMYK ICC profile unusable; converted without it",
                            "converted from CMYK"]
    assert tuple(loaded.rgb[40, 40]) == (200, 30, 30)


def test_palette_with_transparency_keeps_alpha_and_flattens_over_white() -> None:
    image = Image.new("P", (80, 80), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (20, 20, 60, 60))
    loaded = load_image(_encoded(image, transparency=0), name="logo.png")
    assert loaded.alpha is not None and loaded.alpha.dtype == np.float32
    assert loaded.alpha[0, 0] == 0.0 and loaded.alpha[40, 40] == 1.0
    assert tuple(loaded.rgb[0, 0]) == (255, 255, 255)
    assert tuple(loaded.rgb[40, 40]) == (0, 0, 255)


def test_grey_with_alpha_la_keeps_alpha() -> None:
    grey = Image.new("L", (70, 70), 40)
    matte = Image.linear_gradient("L").resize((70, 70))
    loaded = load_image(_encoded(Image.merge("LA", (grey, matte))), name="la.png")
    assert loaded.alpha is not None
    np.testing.assert_allclose(loaded.alpha, np.asarray(matte) / 255.0, atol=1e-6)
    assert loaded.rgb[0, 0, 0] >= 250 and loaded.rgb[-1, 0, 0] < 45


def test_sixteen_bit_gradient_is_scaled_not_clipped() -> None:
    ramp = np.linspace(0, 65535, 256, dtype=np.float64).round().astype(np.uint16)
    image = Image.fromarray(np.tile(ramp, (64, 1)))
    assert image.mode == "I;16"
    loaded = load_image(_encoded(image), name="scan16.png")
    row = loaded.rgb[0, :, 0].astype(int)
    assert "16-bit scaled to 8-bit" in loaded.notes
    assert row[0] == 0 and row[-1] == 255
    assert np.all(np.diff(row) >= 0) and len(np.unique(row)) > 200  # a ramp, not a cliff
    assert abs(row[128] - 128) <= 1


def test_rgba_cutout_keeps_alpha_and_opaque_alpha_is_dropped() -> None:
    rgba = np.zeros((80, 80, 4), np.uint8)
    rgba[..., 1] = 200
    rgba[20:60, 20:60, 3] = 255
    rgba[30:50, 30:50, 3] = 128
    cutout = load_image(_encoded(Image.fromarray(rgba)), name="cutout.png")
    assert cutout.alpha is not None
    assert cutout.alpha[0, 0] == 0.0 and cutout.alpha[25, 25] == 1.0
    assert abs(float(cutout.alpha[40, 40]) - 128 / 255) < 1e-6
    assert tuple(cutout.rgb[0, 0]) == (255, 255, 255) and tuple(cutout.rgb[25, 25]) == (0, 200, 0)
    rgba[..., 3] = 255
    opaque = load_image(_encoded(Image.fromarray(rgba)), name="opaque.png")
    assert opaque.alpha is None
    np.testing.assert_array_equal(opaque.rgb, rgba[..., :3])


def test_a_path_loads_like_bytes(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(_gradient_rgb()).save(path)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.rgb, _gradient_rgb())
    assert loaded.notes == [] and loaded.source_size == (120, 80)


# --- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize("claimed", [50_000, 9_000])
def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path, claimed: int) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(claimed, claimed))
    with pytest.raises(ImageInputError) as caught:
        load_image(path)
    message = str(caught.value)
    assert str(path) in message and f"{claimed}x{claimed}" in message
    assert "40 MP limit" in message and "ADFORGE_IMAGES__MAX_PIXELS" in message


def test_pixel_limit_is_a_parameter() -> None:
    data = _encoded(Image.fromarray(_gradient_rgb(200, 100)))
    with pytest.raises(ImageInputError, match="200x100"):
        load_image(data, name="small-limit.png", max_pixels=10_000)


def test_unusable_files_are_refused_by_name(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not an image\n")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    jpeg = _encoded(Image.fromarray(_gradient_rgb(400, 300)), "JPEG")
    truncated_jpeg = tmp_path / "cut.jpg"
    truncated_jpeg.write_bytes(jpeg[: len(jpeg) // 2])
    noisy = np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    png = _encoded(Image.fromarray(noisy))
    truncated_png = tmp_path / "cut.png"
    truncated_png.write_bytes(png[: len(png) // 2])
    for path, words in [(text, "not an image"), (empty, "empty"),
                        (truncated_jpeg, "truncated"), (truncated_png, "truncated"),
                        (tmp_path / "missing.png", "does not exist")]:
        with pytest.raises(ImageInputError) as caught:
            load_image(path)
        assert str(path) in str(caught.value) and words in str(caught.value)


def test_tiny_image_is_refused_with_its_size() -> None:
    with pytest.raises(ImageInputError, match=r"icon\.png is 300x40.*below 64"):
        load_image(_encoded(Image.new("RGB", (300, 40))), name="icon.png")


def test_huge_image_is_downscaled_with_a_note() -> None:
    rgba = np.zeros((300, 500, 4), np.uint8)
    rgba[100:200, 100:400] = (10, 20, 30, 255)
    loaded = load_image(_encoded(Image.fromarray(rgba)), name="big.png", max_side=250)
    assert loaded.rgb.shape == (150, 250, 3) and loaded.alpha is not None
    assert loaded.alpha.shape == (150, 250)
    assert loaded.source_size == (500, 300)
    assert "downscaled from 500x300 to 250x150 to fit 250" in loaded.notes


def test_huge_jpeg_decodes_at_reduced_scale_then_fits() -> None:
    data = _encoded(Image.fromarray(_gradient_rgb(1200, 800)), "JPEG")
    loaded = load_image(data, name="big.jpg", max_side=256)
    assert loaded.rgb.shape == (171, 256, 3) and loaded.source_size == (1200, 800)


# --- PNG helpers -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(33, 47, 3), (33, 47, 4), (33, 47)])
def test_png_round_trip_is_exact(shape: tuple[int, ...], tmp_path: Path) -> None:
    array = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_array_equal(decode_png(encode_png(array)), array)
    path = save_png(array, tmp_path / "out" / "a.png", level=3)
    np.testing.assert_array_equal(decode_png(path.read_bytes()), array)
    assert [p.name for p in path.parent.iterdir()] == ["a.png"]
    pillow = np.asarray(Image.open(path))
    np.testing.assert_array_equal(pillow, array)  # channel order is RGB on disk too


def test_encode_png_refuses_wrong_dtype() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4, 3), np.float32))
