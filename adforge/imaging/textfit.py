"""Fitting copy into a box: the largest type size at which the wrapped lines fit.

1. the largest size from the hint down to `min_px` at which the wrapped lines fit the
   box within `max_lines`, without splitting words (multi-line results balanced, so
   no widows);
2. then allowing splits inside words;
3. only then, at the smallest size, cut with an ellipsis (reported in `ellipsized`).

All measurement uses the ink boxes Pillow reports, so the ink stays inside its box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageFont

from adforge.fonts import ResolvedFont, missing_glyphs
from adforge.imaging.linebreak import Atom, balanced_lines, split_atoms, wrap_atoms

LINE_SPACING = 1.2
ELLIPSIS = "…"


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


def min_font_px(width: int, height: int) -> int:
    """The smallest type worth setting in a frame this size (never below 12 px)."""
    return max(12, round(min(width, height) * 0.016))


@lru_cache(maxsize=256)
def get_font(path: str, index: int, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px, index=index)


def pil_font(font: ResolvedFont, px: int) -> ImageFont.FreeTypeFont:
    return get_font(str(font.path), font.index, px)


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


def _width_at(font: ResolvedFont, px: int) -> Callable[[str], float]:
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
