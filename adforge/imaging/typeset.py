"""Typesetting with Pillow: headline / subline / call-to-action, fitted into their boxes.

Per block of copy:
1. fit the text to its box (`adforge.imaging.textfit`, breaking lines with
   `adforge.imaging.linebreak`) and place its lines: aligned at the box's top, or
   hugged by a call-to-action button;
2. paint the backing (underlay panel, call-to-action buttons), then the glyphs, with an
   optional soft drop shadow;
3. measure the ink actually drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw

from adforge.fonts import ResolvedFont
from adforge.imaging.color import contrast_ratio, hex_to_rgb, relative_luminance
from adforge.imaging.textfit import FittedLines, fit_text, min_font_px, pil_font
from adforge.specs import PixelBox, TextRole, Underlay

log = logging.getLogger(__name__)

BUTTON_PAD_X = 0.9  # call-to-action button padding, in font sizes
BUTTON_PAD_Y = 0.5
BUTTON_RADIUS = 0.3  # corner radius, fraction of the button height
SHADOW_OPACITY = 0.45
TEXT_CONTRAST = 4.5

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class TextBlock:
    """One piece of copy to set: what, in which font, where and how."""

    role: TextRole
    text: str
    font: ResolvedFont
    box: PixelBox
    color: str
    size_px: int
    max_lines: int = 2
    align: Align = "left"
    fill: str | None = None  # set: the text is drawn on a rounded button of this colour


@dataclass(frozen=True)
class PlacedText:
    """A fitted block placed in the frame: line origins, ink box and button box."""

    block: TextBlock
    fitted: FittedLines
    origins: tuple[tuple[int, int], ...]  # (x, baseline y) per line
    ink: PixelBox  # predicted from the font's metrics
    button: PixelBox | None


@dataclass
class TypesetResult:
    image: np.ndarray  # the frame with text
    backing: np.ndarray  # the frame with panel and buttons, before glyphs
    placed: list[PlacedText]  # in block order, each with the ink box measured on its glyphs


# --- placing ----------------------------------------------------------------------------


def place_block(block: TextBlock, min_px: int) -> PlacedText:
    """Fit a block into its box and place its lines (and button) in the frame."""
    pad_x, pad_y = _button_padding(block)
    box = block.box
    fitted = fit_text(block.text, block.font, box.width - 2 * pad_x, box.height - 2 * pad_y,
                      size_px=block.size_px, min_px=min_px, max_lines=block.max_lines)
    if block.fill is not None:  # padding follows the size actually used
        pad_x, pad_y = _button_padding(replace(block, size_px=fitted.font_px))
    content = _content_box(block, fitted, pad_x, pad_y)
    origins = _line_origins(fitted, content, block.align)
    ink = _union(PixelBox(x + left, y + t, x + r, y + b)
                 for (x, y), (left, t, r, b) in zip(origins, fitted.extents, strict=True))
    button = None
    if block.fill is not None:
        button = PixelBox(content.x0 - pad_x, content.y0 - pad_y,
                          content.x1 + pad_x, content.y1 + pad_y)
    return PlacedText(block, fitted, origins, ink, button)


def _button_padding(block: TextBlock) -> tuple[int, int]:
    if block.fill is None:
        return 0, 0
    return round(block.size_px * BUTTON_PAD_X), round(block.size_px * BUTTON_PAD_Y)


def _content_box(block: TextBlock, fitted: FittedLines, pad_x: int, pad_y: int) -> PixelBox:
    """Where the ink goes: the box's top, aligned; a button hugs its text."""
    box = block.box
    inner = PixelBox(box.x0 + pad_x, box.y0 + pad_y, box.x1 - pad_x, box.y1 - pad_y)
    if block.fill is None:
        return inner
    height = _button_text_height(fitted)
    width = fitted.ink_width
    x0 = {"left": inner.x0, "right": inner.x1 - width,
          "center": (inner.x0 + inner.x1 - width) // 2}[block.align]
    return PixelBox(x0, inner.y0, x0 + width, inner.y0 + height)


def _button_text_height(fitted: FittedLines) -> int:
    """Ink height without most of the descenders, so button text looks centred."""
    last = len(fitted.extents) - 1
    bottom = last * fitted.advance + min(fitted.extents[-1][3], round(0.1 * fitted.font_px))
    return max(bottom - fitted.ink_top, 1)


def _line_origins(fitted: FittedLines, content: PixelBox,
                  align: Align) -> tuple[tuple[int, int], ...]:
    origins = []
    first_baseline = content.y0 - fitted.ink_top
    for k, (left, _, right, _) in enumerate(fitted.extents):
        if align == "left":
            x = content.x0 - left
        elif align == "right":
            x = content.x1 - right
        else:
            x = (content.x0 + content.x1 - left - right) // 2
        origins.append((x, first_baseline + k * fitted.advance))
    return tuple(origins)


def _union(boxes: Iterable[PixelBox]) -> PixelBox:
    boxes = list(boxes)
    return PixelBox(min(b.x0 for b in boxes), min(b.y0 for b in boxes),
                    max(b.x1 for b in boxes), max(b.y1 for b in boxes))


# --- painting ---------------------------------------------------------------------------


def typeset(image: np.ndarray, blocks: list[TextBlock], *, underlay: Underlay | None = None,
            shadow: bool = False, min_px: int | None = None) -> TypesetResult:
    """Set every block on a copy of `image`: the backing first, then the glyphs."""
    # 1. Fit and place every block that has text.
    min_px = min_px or min_font_px(image.shape[1], image.shape[0])
    placed = [place_block(_readable_on_button(b), min_px) for b in blocks if b.text.strip()]
    # 2. The backing: the underlay panel under the whole block, then the buttons.
    backing = image.copy()
    if underlay is not None and placed:
        paint_underlay(backing, placed, underlay)
    for item in placed:
        if item.button is not None and item.block.fill is not None:
            radius = round(BUTTON_RADIUS * item.button.height)
            paint_rounded_rect(backing, item.button, hex_to_rgb(item.block.fill), 1.0, radius)
    # 3. The glyphs (buttons carry no shadow), measuring the ink actually drawn.
    final = backing.copy()
    inked = [draw_glyphs(final, item, shadow=shadow and item.block.fill is None)
             for item in placed]
    return TypesetResult(final, backing, inked)


def paint_underlay(image: np.ndarray, placed: list[PlacedText], underlay: Underlay) -> PixelBox:
    """The panel under every block (and button), with the underlay's padding."""
    frame_h = image.shape[0]
    pad = round(underlay.padding * frame_h)
    block = _union(item.button or item.ink for item in placed)
    panel = PixelBox(block.x0 - pad, block.y0 - pad, block.x1 + pad, block.y1 + pad)
    radius = min(round(underlay.radius * frame_h), pad)  # corners never reach the ink
    paint_rounded_rect(image, panel, hex_to_rgb(underlay.color), underlay.opacity, radius)
    return panel


def paint_rounded_rect(image: np.ndarray, box: PixelBox, rgb: tuple[int, int, int],
                       opacity: float, radius: int) -> None:
    """Blend an anti-aliased rounded rectangle into `image` in place (clipped to it)."""
    height, width = image.shape[:2]
    clip = PixelBox(max(box.x0, 0), max(box.y0, 0), min(box.x1, width), min(box.y1, height))
    if clip.width <= 0 or clip.height <= 0:
        return
    alpha = rounded_rect_alpha(box.width, box.height, radius)
    alpha = alpha[clip.y0 - box.y0:clip.y1 - box.y0, clip.x0 - box.x0:clip.x1 - box.x0]
    region = image[clip.y0:clip.y1, clip.x0:clip.x1]
    region[:] = blend_color(region, rgb, alpha * np.float32(opacity))


def rounded_rect_alpha(width: int, height: int, radius: int) -> np.ndarray:
    """Coverage (0..1, float32) of a rounded rectangle filling a width x height raster."""
    radius = min(radius, width // 2, height // 2)
    if radius <= 0:
        return np.ones((height, width), np.float32)
    xs = np.arange(width, dtype=np.float32) + 0.5
    ys = np.arange(height, dtype=np.float32) + 0.5
    dx = np.maximum(np.maximum(radius - xs, xs - (width - radius)), 0.0)
    dy = np.maximum(np.maximum(radius - ys, ys - (height - radius)), 0.0)
    distance = np.sqrt(dx[None, :] ** 2 + dy[:, None] ** 2)
    return np.clip(radius - distance + 0.5, 0.0, 1.0).astype(np.float32)


def blend_color(pixels: np.ndarray, rgb: tuple[int, int, int],
                alpha: float | np.ndarray) -> np.ndarray:
    """`pixels` (uint8 RGB) covered by `rgb` at `alpha` (scalar or per pixel), rounded."""
    base = pixels.astype(np.float32)
    weight = np.asarray(alpha, dtype=np.float32)
    if weight.ndim:
        weight = weight[..., None]
    blended = base + (np.asarray(rgb, dtype=np.float32) - base) * weight
    return (blended + 0.5).astype(np.uint8)


def draw_glyphs(image: np.ndarray, item: PlacedText, *, shadow: bool) -> PlacedText:
    """Draw a placed block into `image` in place; returns it with the measured ink box."""
    px = item.fitted.font_px
    offset = max(1, round(0.04 * px))
    sigma = max(1.0, 0.06 * px)
    margin = offset + round(3 * sigma) if shadow else 2
    height, width = image.shape[:2]
    ink = item.ink
    area = PixelBox(max(ink.x0 - margin, 0), max(ink.y0 - margin, 0),
                    min(ink.x1 + margin, width), min(ink.y1 + margin, height))
    coverage = _glyph_coverage(item, area)
    region = image[area.y0:area.y1, area.x0:area.x1]
    if shadow:
        cast = np.zeros_like(coverage)
        cast[offset:, offset // 2:] = coverage[:-offset, :coverage.shape[1] - offset // 2]
        cast = cv2.GaussianBlur(cast, (0, 0), sigma) * np.float32(SHADOW_OPACITY)
        region[:] = blend_color(region, (0, 0, 0), cast)
    region[:] = blend_color(region, hex_to_rgb(item.block.color), coverage)
    return replace(item, ink=_inked_box(coverage, area))


def _glyph_coverage(item: PlacedText, area: PixelBox) -> np.ndarray:
    mask = Image.new("L", (area.width, area.height), 0)
    draw = ImageDraw.Draw(mask)
    font = pil_font(item.block.font, item.fitted.font_px)
    for (x, y), line in zip(item.origins, item.fitted.lines, strict=True):
        draw.text((x - area.x0, y - area.y0), line, font=font, fill=255, anchor="ls")
    return np.asarray(mask, dtype=np.float32) * np.float32(1 / 255)


def _inked_box(coverage: np.ndarray, area: PixelBox) -> PixelBox:
    rows = np.flatnonzero(coverage.any(axis=1))
    cols = np.flatnonzero(coverage.any(axis=0))
    if rows.size == 0:
        return PixelBox(area.x0, area.y0, area.x0, area.y0)
    return PixelBox(area.x0 + int(cols[0]), area.y0 + int(rows[0]),
                    area.x0 + int(cols[-1]) + 1, area.y0 + int(rows[-1]) + 1)


def _readable_on_button(block: TextBlock) -> TextBlock:
    """A button's text colour, switched to black or white if it fails the contrast target."""
    if block.fill is None or hex_contrast(block.color, block.fill) >= TEXT_CONTRAST:
        return block
    best = max(("#000000", "#FFFFFF"), key=lambda c: hex_contrast(c, block.fill or c))
    log.warning("%s text %s on %s fails %.1f:1; using %s", block.role.value, block.color,
                block.fill, TEXT_CONTRAST, best)
    return replace(block, color=best)


def hex_contrast(first: str, second: str) -> float:
    lums = relative_luminance(np.array([hex_to_rgb(first), hex_to_rgb(second)], np.uint8))
    return float(contrast_ratio(lums[0], lums[1]))
