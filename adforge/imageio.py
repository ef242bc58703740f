"""One image loader for every input, plus fast PNG encode/decode.

`load_image` turns whatever a user hands over (a path, or bytes from storage) into an
upright 8-bit sRGB array and, when the input really has one, a float alpha matte:

1. open the file (missing, special, empty, oversized and unreadable files are refused,
   named, from the file's metadata: nothing is read before the size cap is checked);
2. read the header only, streamed from the file, and refuse decompression bombs before
   any pixel is decoded;
3. decode (truncated or corrupt files are refused) and apply the EXIF orientation;
4. convert any mode (CMYK with its ICC profile, palette, grey, 16-bit, alpha) to RGB + alpha;
5. refuse tiny images and downscale huge ones (INTER_AREA).

Every adjustment is written to `LoadedImage.notes`, so a run can say what it did.
PNG helpers use OpenCV (fast, compression level 1 by default) on RGB/RGBA/grey arrays.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from adforge.errors import ImageInputError
from adforge.sources import SIZE_SETTING, local_file_problem

PIXEL_LIMIT_SETTING = "ADFORGE_IMAGES__MAX_PIXELS"
DEFAULT_MAX_BYTES = 100_000_000
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)
_ORIENTATION_TAG = 0x0112


@dataclass
class LoadedImage:
    """A decoded input image: upright, 8-bit sRGB, with its alpha matte if it had one."""

    rgb: np.ndarray  # (H, W, 3) uint8, alpha already flattened over white
    alpha: np.ndarray | None  # (H, W) float32 in [0, 1], or None when fully opaque
    source_size: tuple[int, int]  # (w, h) upright, before any downscale
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """(w, h) of `rgb`."""
        return self.rgb.shape[1], self.rgb.shape[0]

    def rgba(self) -> np.ndarray:
        """(H, W, 4) uint8; opaque when there is no alpha."""
        alpha = np.full(self.rgb.shape[:2], 255, np.uint8) if self.alpha is None else (
            np.clip(self.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8))
        return np.dstack([self.rgb, alpha])


def load_image(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    max_pixels: int = 40_000_000,
    min_side: int = 64,
    max_side: int = 4096,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> LoadedImage:
    """Load any supported image as upright 8-bit RGB (+ alpha); raise ImageInputError if unusable.

    `name` labels the image in errors (defaults to the path, or "image bytes").
    """
    # 1. Open the file (checked from its metadata first)
    label = name or (str(source) if not isinstance(source, bytes) else "image bytes")
    notes: list[str] = []
    with _opened(source, label, max_bytes) as stream:
        # 2. Header only: size check before decoding
        image = _open_header(stream, label, max_pixels)
        stored_size = image.size
        # 3. Decode, then turn upright
        image = _decode(image, label, max_side)
        image, orientation = _apply_orientation(image, label, notes)
    source_size = _upright(stored_size, orientation)
    # 4. Any mode to RGB + alpha
    rgb, alpha = _to_rgb_and_alpha(image, notes)
    # 5. Size policy
    _check_min_side(rgb, label, min_side)
    rgb, alpha = _fit_max_side(rgb, alpha, source_size, max_side, notes)
    return LoadedImage(rgb=rgb, alpha=alpha, source_size=source_size, notes=notes)


# --- reading and header checks -------------------------------------------------------


@contextmanager
def _opened(source: str | Path | bytes, label: str, max_bytes: int) -> Iterator[BinaryIO]:
    """The image as a stream: bytes in memory, or the file, opened only once its metadata
    says it is a regular, non-empty file within `max_bytes` (a FIFO would block, a
    device or a 4 GB file would never end)."""
    if isinstance(source, bytes):
        _check_byte_count(len(source), label, max_bytes)
        yield io.BytesIO(source)
        return
    path = Path(source)
    problem = local_file_problem(path)
    if problem is not None:
        fix = "check the path" if problem == "was not found" else "point to the photo"
        where = "does not exist" if problem == "was not found" else problem
        raise ImageInputError(f"image {label} {where}; {fix}", item=label, field="image")
    _check_byte_count(path.stat().st_size, label, max_bytes)
    try:
        file = path.open("rb")
    except OSError as exc:
        raise ImageInputError(f"image {label} cannot be read ({exc.strerror}); check its "
                              "permissions", item=label, field="image") from exc
    with file:
        yield file


def _check_byte_count(size: int, label: str, max_bytes: int) -> None:
    if size == 0:
        raise ImageInputError(f"image {label} is empty (0 bytes); export or upload it again",
                              item=label, field="image")
    if size > max_bytes:
        raise ImageInputError(
            f"image {label} is {size / 1e6:,.0f} MB, above the {max_bytes / 1e6:,.0f} MB "
            f"limit for input files; use a smaller file or raise {SIZE_SETTING}",
            item=label, field="image")


def _open_header(stream: BinaryIO, label: str, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        size = _header_size(stream)
        pixels = size[0] * size[1] if size else _pixels_from_pillow_message(str(exc))
        if pixels > max_pixels:
            raise _bomb_error(label, pixels, size, max_pixels) from exc
        raise _bomb_error(label, pixels, size, Image.MAX_IMAGE_PIXELS or 0,
                          setting="PIL.Image.MAX_IMAGE_PIXELS as well") from exc
    except UnidentifiedImageError as exc:
        raise ImageInputError(
            f"image {label} is not an image Pillow can read; use a JPEG, PNG, WebP or TIFF "
            "file", item=label, field="image") from exc
    except _DECODE_ERRORS as exc:
        raise ImageInputError(f"image {label} has a broken header ({exc}); export it again",
                              item=label, field="image") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise _bomb_error(label, width * height, (width, height), max_pixels)
    return image


def _header_size(stream: BinaryIO) -> tuple[int, int] | None:
    """The size a header claims, read by the format plugin without Pillow's bomb check."""
    stream.seek(0)
    prefix = stream.read(16)
    for format_id in Image.ID:
        factory, accept = Image.OPEN[format_id]
        if accept and not accept(prefix):
            continue
        try:
            stream.seek(0)
            return factory(stream, format_id).size
        except Exception:  # any plugin failure: try the next format
            continue
    return None


def _pixels_from_pillow_message(message: str) -> int:
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else 0


def _bomb_error(label: str, pixels: int, size: tuple[int, int] | None, limit: int,
                setting: str = PIXEL_LIMIT_SETTING) -> ImageInputError:
    dims = f"{size[0]}x{size[1]} = " if size else ""
    return ImageInputError(
        f"image {label} is {dims}{pixels / 1e6:.0f} MP, above the {limit / 1e6:.0f} MP limit; "
        f"resize it or raise {setting}",
        item=label, field="image")


# --- decoding and orientation --------------------------------------------------------


def _decode(image: Image.Image, label: str, max_side: int) -> Image.Image:
    _draft_if_huge(image, max_side)
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise ImageInputError(
            f"image {label} is truncated or corrupt ({exc}); export or upload it again",
            item=label, field="image") from exc
    return image


def _draft_if_huge(image: Image.Image, max_side: int) -> None:
    """JPEG can decode at 1/2, 1/4, 1/8 scale: ask for the smallest that still covers max_side."""
    longest = max(image.size)
    if image.format not in ("JPEG", "MPO") or longest <= 2 * max_side:
        return
    scale = max_side / longest
    image.draft(image.mode, (int(image.size[0] * scale) + 1, int(image.size[1] * scale) + 1))


def _apply_orientation(
    image: Image.Image, label: str, notes: list[str]
) -> tuple[Image.Image, int]:
    try:
        orientation = int(image.getexif().get(_ORIENTATION_TAG, 1) or 1)
        if orientation not in range(2, 9):
            return image, 1
        upright = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS as exc:
        raise ImageInputError(f"image {label} has broken EXIF data ({exc}); re-save it",
                              item=label, field="image") from exc
    notes.append(f"rotated by EXIF orientation {orientation}")
    return upright, orientation


def _upright(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Orientations 5-8 turn the picture by 90 degrees: width and height swap."""
    return (size[1], size[0]) if orientation >= 5 else size


# --- modes ---------------------------------------------------------------------------


def _to_rgb_and_alpha(image: Image.Image, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    mode = image.mode
    if mode == "CMYK":
        return _cmyk_to_rgb(image, notes), None
    if mode.startswith("I") or mode == "F":
        return _wide_grey_to_rgb(image, notes), None
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        notes.append("converted from palette (P)")
    elif mode in ("LA", "La", "RGBa", "RGBA"):
        image = image.convert("RGBA")
    elif mode in ("L", "RGB") and "transparency" in image.info:
        image = image.convert("RGBA")
    elif mode != "RGB":
        notes.append(f"converted from {mode}")
        image = image.convert("RGB")
    pixels = np.asarray(image)
    if pixels.shape[2] == 3:
        return np.ascontiguousarray(pixels), None
    return _split_alpha(pixels, notes)


def _split_alpha(rgba: np.ndarray, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Flatten over white; keep the matte only when it is not fully opaque."""
    rgb = np.ascontiguousarray(rgba[..., :3])
    if bool((rgba[..., 3] == 255).all()):
        notes.append("alpha channel is fully opaque; dropped")
        return rgb, None
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    flat = rgb.astype(np.float32) * alpha[..., None] + 255.0 * (1.0 - alpha[..., None])
    return np.clip(flat + 0.5, 0, 255).astype(np.uint8), alpha


def _cmyk_to_rgb(image: Image.Image, notes: list[str]) -> np.ndarray:
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(image, source_profile, srgb, outputMode="RGB")
            notes.append("converted from CMYK with its ICC profile")
            return np.asarray(converted).copy()
        except (ImageCms.PyCMSError, OSError, ValueError):
            notes.append("CMYK ICC profile unusable; converted without it")
    notes.append("converted from CMYK")
    return np.asarray(image.convert("RGB")).copy()


def _wide_grey_to_rgb(image: Image.Image, notes: list[str]) -> np.ndarray:
    """16-bit (I;16*, I) and float (F) grey to 8 bits by scaling, never by clipping."""
    values = np.asarray(image).astype(np.float64)
    if image.mode == "F":
        top = 1.0 if values.max(initial=0.0) <= 1.0 else 255.0
        notes.append("32-bit float scaled to 8-bit")
    else:
        top = 65535.0 if values.max(initial=0.0) <= 65535 else float(values.max())
        notes.append("16-bit scaled to 8-bit")
    grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


# --- size policy ---------------------------------------------------------------------


def _check_min_side(rgb: np.ndarray, label: str, min_side: int) -> None:
    height, width = rgb.shape[:2]
    if min(width, height) < min_side:
        raise ImageInputError(
            f"image {label} is {width}x{height}, its shorter side is below {min_side} px; "
            "use a larger photo", item=label, field="image")


def _fit_max_side(
    rgb: np.ndarray, alpha: np.ndarray | None, source_size: tuple[int, int],
    max_side: int, notes: list[str],
) -> tuple[np.ndarray, np.ndarray | None]:
    height, width = rgb.shape[:2]
    longest = max(width, height)
    if max(source_size) <= max_side and longest <= max_side:
        return rgb, alpha
    if longest > max_side:
        scale = max_side / longest
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if alpha is not None:
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    new_h, new_w = rgb.shape[:2]
    notes.append(f"downscaled from {source_size[0]}x{source_size[1]} to {new_w}x{new_h} "
                 f"to fit {max_side}")
    return rgb, alpha


# --- PNG -----------------------------------------------------------------------------


def encode_png(array: np.ndarray, *, level: int = 1) -> bytes:
    """PNG bytes of an RGB (H,W,3), RGBA (H,W,4) or grey (H,W) / (H,W,1) uint8 array.

    Level 0 stores the pixels uncompressed (about 10x faster: for working layers);
    levels 1-9 use the "sub" filter, which compresses grainy studio backdrops well, and
    zlib's Huffman-only strategy: on the ads it is both faster than level 1's default
    (about 25%) and smaller (about 17%), since the filtered rows leave few repeats to find.
    """
    if array.dtype != np.uint8:
        raise ValueError(f"encode_png takes uint8 arrays, got {array.dtype}; convert first")
    channels = 1 if array.ndim == 2 else array.shape[2]
    if channels == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    elif channels == 4:
        array = cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA)
    elif channels != 1:
        raise ValueError(f"encode_png takes 1, 3 or 4 channels, got shape {array.shape}")
    png_filter = cv2.IMWRITE_PNG_FILTER_NONE if level == 0 else cv2.IMWRITE_PNG_FILTER_SUB
    options = [cv2.IMWRITE_PNG_COMPRESSION, level, cv2.IMWRITE_PNG_FILTER, png_filter]
    if level:
        options += [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
    ok, buffer = cv2.imencode(".png", array, options)
    if not ok:
        raise ValueError(f"OpenCV could not encode an array of shape {array.shape} as PNG")
    return buffer.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    """The array `encode_png` wrote: RGB, RGBA or (H, W) grey, uint8."""
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ValueError(f"{len(data)} bytes are not a PNG OpenCV can decode")
    if array.ndim == 3 and array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    if array.ndim == 3 and array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA)
    return array


def save_png(array: np.ndarray, path: str | Path, level: int = 1) -> Path:
    """Write a PNG atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode_png(array, level=level)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path
