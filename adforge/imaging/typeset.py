"""Typesetting with Pillow: headline / subline / call-to-action, fitted into their boxes.

Per block of copy:
1. Break the text into unbreakable atoms: Latin and Korean break at spaces, Chinese and
   Japanese between ideographs and kana, with kinsoku (no closing punctuation at a line
   start, no opening punctuation at a line end).
2. Fit: the largest size from the hint down to `min_px` at which the wrapped lines fit
   the box within `max_lines`, without splitting words; then allowing splits inside
   words; only then, at the smallest size, cut with an ellipsis (reported).
3. Paint the backing (underlay panel, call-to-action buttons), then the glyphs, with an
   optional soft drop shadow.

All measurement uses the ink boxes Pillow reports, so the ink stays inside its box.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal, NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from adforge.fonts import ResolvedFont, missing_glyphs
from adforge.imaging.color import contrast_ratio, hex_to_rgb, relative_luminance
from adforge.specs import PixelBox, TextRole, Underlay

log = logging.getLogger(__name__)

LINE_SPACING = 1.2
ELLIPSIS = "…"
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
class FittedLines:
    """Lines at a size, with their ink extents relative to the first line's origin."""

    lines: tuple[str, ...]
    font_px: int
    ellipsized: bool
    extents: tuple[tuple[int, int, int, int], ...]  # per line (l, t, r, b) about (0, baseline_k)

    @property
    def advance(self) -> int:
        return round(self.font_px * LINE_SPACING)

    @property
    def ink_top(self) -> int:
        return min(t + k * self.advance for k, (_, t, _, _) in enumerate(self.extents))

    @property
    def ink_bottom(self) -> int:
        return max(b + k * self.advance for k, (_, _, _, b) in enumerate(self.extents))

    @property
    def ink_width(self) -> int:
        return max(r - left for left, _, r, _ in self.extents)

    @property
    def ink_height(self) -> int:
        return self.ink_bottom - self.ink_top


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


def min_font_px(width: int, height: int) -> int:
    """The smallest type worth setting in a frame this size (never below 12 px)."""
    return max(12, round(min(width, height) * 0.016))


@lru_cache(maxsize=256)
def get_font(path: str, index: int, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px, index=index)


def pil_font(font: ResolvedFont, px: int) -> ImageFont.FreeTypeFont:
    return get_font(str(font.path), font.index, px)


# --- line breaking ----------------------------------------------------------------------

# Kinsoku: characters that may not start a line, and characters that may not end one.
NO_LINE_START = frozenset(
    "、。，．・：；？！ー…‥）」』】〕〉》〗〙〟’”｝］｠»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ々〻,.;:!?)]}%"
)
NO_LINE_END = frozenset("（「『【〔〈《〖〘〝‘“｛［｟«([{")
_CJK_RANGES = (
    (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
    (0x31F0, 0x31FF),  # katakana extensions
    (0x3400, 0x4DBF),  # ideographs, extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width and half-width forms
    (0x20000, 0x3FFFF),  # ideographs, extensions B and later
)


class Atom(NamedTuple):
    """A piece of text that wraps as a unit."""

    text: str
    space_before: bool  # a space separates it from the previous atom
    new_line: bool = False  # an explicit line break precedes it


def is_cjk_breakable(char: str) -> bool:
    """Chinese/Japanese characters: a line may break before or after them (Hangul not)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def may_break_between(before: str, after: str) -> bool:
    if before in NO_LINE_END or after in NO_LINE_START:
        return False
    return is_cjk_breakable(before) or is_cjk_breakable(after)


def split_atoms(text: str) -> list[Atom]:
    """Atoms of `text`: space-separated words, further split between CJK characters."""
    atoms = []
    for p, paragraph in enumerate(text.splitlines()):
        for w, word in enumerate(paragraph.split()):
            for c, piece in enumerate(_unbreakable_pieces(word)):
                atoms.append(Atom(piece, w > 0 and c == 0, p > 0 and w == 0 and c == 0))
    return atoms


def _unbreakable_pieces(word: str) -> list[str]:
    pieces, current = [], word[0]
    for before, after in zip(word, word[1:], strict=False):
        if may_break_between(before, after):
            pieces.append(current)
            current = after
        else:
            current += after
    pieces.append(current)
    return pieces


def wrap_atoms(atoms: list[Atom], width: Callable[[str], float], max_width: float, *,
               split_words: bool) -> list[str] | None:
    """Greedy wrapping; None when a word is too wide and `split_words` is False."""
    lines: list[str] = []
    current, current_width = "", 0.0
    for atom in atoms:
        if atom.new_line:
            lines.append(current)
            current, current_width = "", 0.0
        gap = width(" ") if atom.space_before and current else 0.0
        atom_width = width(atom.text)
        if current_width + gap + atom_width <= max_width:
            current += (" " if gap else "") + atom.text
            current_width += gap + atom_width
            continue
        if current:
            lines.append(current)
        if atom_width <= max_width:
            current, current_width = atom.text, atom_width
            continue
        if not split_words:
            return None
        pieces = _split_word(atom.text, width, max_width)
        lines.extend(pieces[:-1])
        current, current_width = pieces[-1], width(pieces[-1])
    lines.append(current)
    return lines


def balanced_lines(atoms: list[Atom], width: Callable[[str], float], max_width: float,
                   count: int) -> list[str]:
    """The same number of lines as greedy wrapping, with the narrowest measure: no widows."""
    low, high = 0.0, float(max_width)
    best = wrap_atoms(atoms, width, high, split_words=False) or []
    while high - low > 1.0:
        middle = (low + high) / 2
        lines = wrap_atoms(atoms, width, middle, split_words=False)
        if lines is not None and len(lines) <= count:
            best, high = lines, middle
        else:
            low = middle
    return best


def _split_word(word: str, width: Callable[[str], float], max_width: float) -> list[str]:
    """Last resort: break inside a word, between any two characters."""
    pieces, current, current_width = [], "", 0.0
    for char in word:
        char_width = width(char)
        if current and current_width + char_width > max_width:
            pieces.append(current)
            current, current_width = "", 0.0
        current += char
        current_width += char_width
    pieces.append(current)
    return pieces


# --- fitting ----------------------------------------------------------------------------


def fit_text(text: str, font: ResolvedFont, width: int, height: int, *, size_px: int,
             min_px: int, max_lines: int) -> FittedLines:
    """The largest setting of `text` that fits `width` x `height` (see module docstring)."""
    return _fit_cached(text, font, width, height, size_px, min_px, max_lines)


@lru_cache(maxsize=1024)
def _fit_cached(text: str, font: ResolvedFont, width: int, height: int, size_px: int,
                min_px: int, max_lines: int) -> FittedLines:
    atoms = split_atoms(text)
    min_px = min(min_px, size_px)
    for split_words in (False, True):
        fitted = _largest_fitting(atoms, font, width, height, size_px, min_px, max_lines,
                                  split_words)
        if fitted is not None:
            return fitted
    return _ellipsized(atoms, font, width, height, min_px, max_lines)


def _largest_fitting(atoms: list[Atom], font: ResolvedFont, width: int, height: int,
                     high: int, low: int, max_lines: int,
                     split_words: bool) -> FittedLines | None:
    def attempt(px: int) -> FittedLines | None:
        return _try_size(atoms, font, px, width, height, max_lines, split_words)

    best = attempt(high)
    if best is not None:
        return best
    best = attempt(low)
    if best is None:
        return None
    low, high = low + 1, high - 1
    while low <= high:  # invariant: a size below `low` fits
        middle = (low + high) // 2
        fitted = attempt(middle)
        if fitted is not None:
            best, low = fitted, middle + 1
        else:
            high = middle - 1
    return best


def _try_size(atoms: list[Atom], font: ResolvedFont, px: int, width: int, height: int,
              max_lines: int, split_words: bool) -> FittedLines | None:
    measure = _width_at(font, px)
    lines = wrap_atoms(atoms, measure, width, split_words=split_words)
    if lines is None or len(lines) > max_lines:
        return None
    if len(lines) > 1 and not split_words:
        lines = balanced_lines(atoms, measure, width, len(lines))
    fitted = _measured(lines, font, px, ellipsized=False)
    if fitted.ink_width > width or fitted.ink_height > height:
        return None
    return fitted


def _width_at(font: ResolvedFont, px: int):
    def width(piece: str) -> float:
        return _advance(str(font.path), font.index, px, piece)

    return width


@lru_cache(maxsize=8192)
def _advance(path: str, index: int, px: int, piece: str) -> float:
    return get_font(path, index, px).getlength(piece)


def _measured(lines: list[str], font: ResolvedFont, px: int, *, ellipsized: bool) -> FittedLines:
    pil = pil_font(font, px)
    extents = tuple(_ink_extent(pil, line) for line in lines)
    return FittedLines(tuple(lines), px, ellipsized, extents)


def _ink_extent(pil: ImageFont.FreeTypeFont, line: str) -> tuple[int, int, int, int]:
    if not line:
        return 0, 0, 0, 0
    left, top, right, bottom = pil.getbbox(line, anchor="ls")
    return math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)


def _ellipsized(atoms: list[Atom], font: ResolvedFont, width: int, height: int, px: int,
                max_lines: int) -> FittedLines:
    """Last resort: the first lines that fit, the last one cut with an ellipsis."""
    while px > 4 and _measured(["Hg국"], font, px, ellipsized=True).ink_height > height:
        px -= 1
    lines = wrap_atoms(atoms, _width_at(font, px), width, split_words=True) or [""]
    mark = ELLIPSIS if not missing_glyphs(font, ELLIPSIS) else "..."
    for count in range(min(max_lines, len(lines)), 0, -1):
        kept = lines[:count]
        kept[-1] = _cut_to_width(kept[-1], mark, font, px, width)
        fitted = _measured(kept, font, px, ellipsized=True)
        if fitted.ink_height <= height and fitted.ink_width <= width:
            return fitted
    return _measured([mark], font, px, ellipsized=True)


def _cut_to_width(line: str, mark: str, font: ResolvedFont, px: int, width: int) -> str:
    pil = pil_font(font, px)
    while line:
        candidate = line.rstrip() + mark
        left, _, right, _ = pil.getbbox(candidate, anchor="ls")
        if right - left <= width:
            return candidate
        line = line[:-1]
    return mark


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
