"""Classic layout: negative-space search and WCAG colour choice, no model weights.

1. Score every rectangle of a coarse grid inside the safe area that keeps clear of the
   product (plus a gap): big and calm wins (Sobel energy, integral-image sums), beside
   or above the product preferred.
2. Stack headline, subline and call-to-action in it, sized with the brand fonts.
3. Pick text colours for the worst pixel under each box; when no brand colour reaches
   the contrast target, add an underlay panel just opaque enough to get there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import cv2
import numpy as np

from adforge.brandkit import BrandKit, FontRef
from adforge.errors import StageError
from adforge.fonts import resolve_font
from adforge.imaging.color import contrast_ratio, hex_to_rgb, relative_luminance
from adforge.imaging.textfit import fit_text, min_font_px
from adforge.imaging.typeset import BUTTON_PAD_X, BUTTON_PAD_Y, blend_color, hex_contrast
from adforge.specs import AdCopy, Box, LayoutSpec, PixelBox, TextBox, TextRole, Underlay
from models.classic.base import ClassicBackend
from models.classic.text import font_for_role

GRID_CELLS = 40  # cells along the frame's short side
BUSY_GRADIENT = 24.0  # mean Sobel magnitude (grey levels) at which a cell counts as busy
PRODUCT_GAP = 0.045  # clearance around the product, fraction of the short side
HEADLINE_SIZE = 0.09  # headline size in square frames, fraction of the short side
STACK_FILL = 0.85  # the copy fills at most this much of its region's height
SAFE_INSET = 0.02  # extra breathing room inside the safe area, fraction of the short side
CJK_LANGUAGES = ("ko", "zh", "ja")
PANEL_PADDING: float = Underlay.model_fields["padding"].default  # the panel's margin
MIN_PANEL_OPACITY = 0.5  # a lighter panel reads as a smudge, not a design element

Side = Literal["left", "right", "above", "below"]


@dataclass(frozen=True)
class PlannedBox:
    role: TextRole
    box: PixelBox
    align: Literal["left", "center", "right"]
    size_px: int
    max_lines: int


@dataclass(frozen=True)
class Region:
    box: PixelBox
    side: Side
    busy: float  # mean busyness 0..1


class ClassicLayoutAnalyzer(ClassicBackend):
    """Negative space + WCAG contrast, on any CPU."""

    name = "classic"

    def __init__(self, *, contrast_target: float = 4.6, type_scale: float = 1.0) -> None:
        """contrast_target: the copy's worst contrast to reach (an underlay where the
        brand's colours do not); type_scale: the headline size relative to the frame's
        usual one (the quality gate's repairs ask for more contrast and smaller type)."""
        self.contrast_target = contrast_target
        self.type_scale = type_scale

    @property
    def cache_key(self) -> str:
        """The name alone with the default options (the keys stay as they were)."""
        if (self.contrast_target, self.type_scale) == (4.6, 1.0):
            return self.name
        return f"{self.name}:contrast={self.contrast_target:g}:type={self.type_scale:g}"

    def analyze(self, image: np.ndarray, product_box: PixelBox, copy: AdCopy,
                brand: BrandKit, safe_area: PixelBox) -> LayoutSpec:
        height, width = image.shape[:2]
        # 1. The calmest large region clear of the product.
        gap = round(PRODUCT_GAP * min(width, height) + PANEL_PADDING * height)
        region = find_text_region(image, product_box, safe_area, gap)
        # 2. Headline, subline and button stacked in it, sized with the brand's fonts.
        boxes = stack_text_boxes(region, product_box, copy, brand, (width, height),
                                 self.type_scale)
        # 3. Colours for the real pixels under each box, and an underlay if needed.
        colors, underlay, worst = choose_text_colors(image, boxes, brand,
                                                     self.contrast_target)
        text_boxes = [self._text_box(planned, colors, brand, (width, height))
                      for planned in boxes]
        reason = _reason(region, underlay, worst)
        return LayoutSpec(boxes=text_boxes, underlay=underlay, shadow=False, reason=reason,
                          made_by=self.name)

    def _text_box(self, planned: PlannedBox, colors: dict[TextRole, str], brand: BrandKit,
                  frame: tuple[int, int]) -> TextBox:
        width, height = frame
        fill = None
        color = colors.get(planned.role, brand.colors.text_dark)
        if planned.role == TextRole.cta:
            fill = brand.colors.accent
            color = choose_button_text(fill, brand, self.contrast_target)
        return TextBox(role=planned.role, box=Box.from_pixels(planned.box, width, height),
                       align=planned.align, color=color, size_hint=planned.size_px / height,
                       max_lines=planned.max_lines, fill=fill)


# --- 1. negative space ------------------------------------------------------------------


def find_text_region(image: np.ndarray, product: PixelBox, safe: PixelBox,
                     gap: int) -> Region:
    """The best rectangle for text: large, calm, clear of the product, inside `safe`."""
    height, width = image.shape[:2]
    cell = min(width, height) / GRID_CELLS
    grid_w, grid_h = max(round(width / cell), 1), max(round(height / cell), 1)
    busy = busyness_grid(image, grid_w, grid_h)
    xs = _grid_lines(safe.x0, safe.x1, width, grid_w)
    ys = _grid_lines(safe.y0, safe.y1, height, grid_h)
    inset = round(SAFE_INSET * min(width, height))
    safe = PixelBox(safe.x0 + inset, safe.y0 + inset, safe.x1 - inset, safe.y1 - inset)
    clear = PixelBox(product.x0 - gap, product.y0 - gap, product.x1 + gap, product.y1 + gap)
    for min_fraction in (0.3, 0.15, 0.05):
        region = _best_rectangle(busy, xs, ys, (width, height), clear, safe, min_fraction)
        if region is not None:
            return region
    raise StageError(f"no room for text: the product box {tuple(product)} leaves no part of "
                     f"the safe area {tuple(safe)} free; make the product smaller")


def busyness_grid(image: np.ndarray, grid_w: int, grid_h: int) -> np.ndarray:
    """Per grid cell, 0 (flat) .. 1 (busy): mean Sobel magnitude of the half-size grey."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    half = cv2.resize(grey, (max(grey.shape[1] // 2, 1), max(grey.shape[0] // 2, 1)),
                      interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(half, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(half, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = cv2.magnitude(gx, gy) * np.float32(0.25)  # Sobel's kernel weight
    grid = cv2.resize(magnitude, (grid_w, grid_h), interpolation=cv2.INTER_AREA)
    return np.clip(grid / BUSY_GRADIENT, 0.0, 1.0)


def _grid_lines(low: int, high: int, size: int, cells: int) -> np.ndarray:
    """Grid line indices k with pixel k*size/cells inside [low, high], every other one."""
    first = int(np.ceil(low * cells / size))
    last = int(np.floor(high * cells / size))
    return np.arange(first, last + 1, 2 if last - first > 24 else 1)


def _best_rectangle(busy: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                    frame: tuple[int, int], clear: PixelBox, safe: PixelBox,
                    min_fraction: float) -> Region | None:
    width, height = frame
    grid_h, grid_w = busy.shape
    cw, ch = width / grid_w, height / grid_h
    x0, x1 = _pairs(xs)
    y0, y1 = _pairs(ys)
    X0, Y0 = x0[None, :], y0[:, None]
    X1, Y1 = x1[None, :], y1[:, None]
    total = _box_sums(busy, X0, Y0, X1, Y1)
    cells = (X1 - X0) * (Y1 - Y0)
    mean_busy = total / np.maximum(cells, 1)
    px0, px1, py0, py1 = X0 * cw, X1 * cw, Y0 * ch, Y1 * ch
    overlaps = (px0 < clear.x1) & (px1 > clear.x0) & (py0 < clear.y1) & (py1 > clear.y0)
    big_enough = ((px1 - px0) >= min_fraction * safe.width) & (
        (py1 - py0) >= min_fraction * 0.6 * safe.height)
    area = (px1 - px0) * (py1 - py0) / max(safe.area, 1)
    below = py0 >= clear.y1
    score = np.sqrt(area) * (1.0 - mean_busy) ** 4 * np.where(below, 0.75, 1.0)
    score = np.where(~overlaps & big_enough, score, -1.0)
    iy, ix = np.unravel_index(int(np.argmax(score)), score.shape)
    if score[iy, ix] <= 0:
        return None
    box = PixelBox(round(x0[ix] * cw), round(y0[iy] * ch), round(x1[ix] * cw),
                   round(y1[iy] * ch))
    return Region(_inside(box, safe), _side_of(box, clear), float(mean_busy[iy, ix]))


def _pairs(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first, second = np.triu_indices(len(lines), k=1)
    return lines[first], lines[second]


def _box_sums(values: np.ndarray, x0, y0, x1, y1) -> np.ndarray:
    integral = cv2.integral(values.astype(np.float64))
    return integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]


def _inside(box: PixelBox, outer: PixelBox) -> PixelBox:
    return PixelBox(max(box.x0, outer.x0), max(box.y0, outer.y0),
                    min(box.x1, outer.x1), min(box.y1, outer.y1))


def _side_of(box: PixelBox, product: PixelBox) -> Side:
    if box.x1 <= product.x0:
        return "left"
    if box.x0 >= product.x1:
        return "right"
    return "above" if box.y1 <= product.y0 else "below"


# --- 2. the text stack ------------------------------------------------------------------


def stack_text_boxes(region: Region, product: PixelBox, copy: AdCopy, brand: BrandKit,
                     frame: tuple[int, int], type_scale: float = 1.0) -> list[PlannedBox]:
    """Headline, subline and button boxes, tight around their text, stacked in `region`."""
    width, height = frame
    align = _alignment(region, product, width)
    box_w = min(region.box.width, round((0.72 if align == "center" else 0.8) * width))
    base_px = round(_headline_fraction(width, height) * min(width, height)
                    * _language_scale(copy.language) * type_scale)
    rows = _largest_stack(copy, brand, base_px, box_w, region.box.height,
                          round(STACK_FILL * region.box.height), min_font_px(width, height))
    total = _stack_height(rows)
    top = _stack_top(region, product, total)
    x0 = region.box.x0 if align == "left" else region.box.x0 + (region.box.width - box_w) // 2
    planned, y = [], top
    for row, gap in zip(rows, [*_gaps(rows), 0], strict=True):
        y = min(y, region.box.y1 - 1)  # no room left: a thin box, the renderer ellipsizes
        box = PixelBox(x0, y, x0 + box_w, min(y + row.height, region.box.y1))
        planned.append(PlannedBox(row.role, box, align, row.px, row.max_lines))
        y += row.height + gap
    return planned


def _largest_stack(copy: AdCopy, brand: BrandKit, base_px: int, box_w: int, box_h: int,
                   room: int, min_px: int) -> list[_Row]:
    """The stack with the largest headline (binary search) whose height fits in `room`."""
    def stack(head_px: int) -> list[_Row]:
        return _stack_sizes(copy, brand, (head_px, base_px), box_w, box_h, min_px)

    best = stack(base_px)
    low, high = min_px, base_px - 1
    if _stack_height(best) <= room or high < low:
        return best
    best = stack(low)
    low += 1
    while low <= high:
        middle = (low + high) // 2
        rows = stack(middle)
        if _stack_height(rows) <= room:
            best, low = rows, middle + 1
        else:
            high = middle - 1
    return best


def _stack_height(rows: list[_Row]) -> int:
    return sum(row.height for row in rows) + sum(_gaps(rows))


class _Row(NamedTuple):
    role: TextRole
    px: int  # font size hint
    height: int  # box height that holds the fitted text
    max_lines: int
    fitted: int  # the size the text actually fits at


SIZE_TO_HEADLINE = {TextRole.subline: 0.42, TextRole.cta: 0.36}  # of the headline's hint
MAX_SIZE_TO_FITTED = {TextRole.subline: 0.6, TextRole.cta: 0.55}  # of its fitted size
MAX_LINES = {TextRole.headline: 4, TextRole.subline: 2, TextRole.cta: 1}


def _stack_sizes(copy: AdCopy, brand: BrandKit, head_sizes: tuple[int, int], box_w: int,
                 box_h: int, min_px: int) -> list[_Row]:
    """Per role with copy: its size, box height and lines; hierarchy kept if the head shrinks.

    `head_sizes`: the headline size to try now, and the frame's base headline size, which
    the smaller roles follow (capped by the headline's fitted size).
    """
    head_px, base_px = head_sizes
    rows: list[_Row] = []
    head_fitted = head_px
    for role in TextRole:
        text = copy.text_for(role).strip()
        if not text:
            continue
        px = head_px
        if role != TextRole.headline:
            px = min(round(base_px * SIZE_TO_HEADLINE[role]),
                     round(head_fitted * MAX_SIZE_TO_FITTED[role]))
            px = max(px, min(min_px + 2, head_px))
        height, fitted_px = _needed_height(text, font_for_role(brand, role), copy.language, px,
                                           box_w, box_h, min_px, MAX_LINES[role], role)
        if role == TextRole.headline:
            head_fitted = fitted_px
        rows.append(_Row(role, px, height, MAX_LINES[role], fitted_px))
    return rows


def _needed_height(text: str, ref: FontRef, language: str, px: int, box_w: int, box_h: int,
                   min_px: int, max_lines: int, role: TextRole) -> tuple[int, int]:
    """The box height the fitted text needs (slack for normalising), and its fitted size."""
    font = resolve_font(ref, text, language=language)
    pad_y = round(px * BUTTON_PAD_Y) if role == TextRole.cta else 0
    pad_x = round(px * BUTTON_PAD_X) if role == TextRole.cta else 0
    fitted = fit_text(text, font, box_w - 2 * pad_x, max(box_h - 2 * pad_y, 1), size_px=px,
                      min_px=min_px, max_lines=max_lines)
    return fitted.ink_height + 2 * pad_y + 3, fitted.font_px


def _gaps(rows: list[_Row]) -> list[int]:
    """Space after each box but the last: tight under the headline, wider before the button."""
    head = rows[0].fitted if rows[0].role == TextRole.headline else rows[0].fitted * 2
    return [round(head * (0.75 if row.role == TextRole.cta else 0.42)) for row in rows[1:]]


def _headline_fraction(width: int, height: int) -> float:
    """Long frames have room for bigger type relative to their short side."""
    aspect = max(width, height) / min(width, height)
    return HEADLINE_SIZE * (1.0 + 0.25 * min(max(aspect - 1.0, 0.0), 1.0))


def _language_scale(language: str) -> float:
    return 0.92 if language.lower().startswith(CJK_LANGUAGES) else 1.0


def _alignment(region: Region, product: PixelBox,
               width: int) -> Literal["left", "center", "right"]:
    centred = abs((product.x0 + product.x1) / 2 - width / 2) < 0.12 * width
    return "center" if region.side in ("above", "below") and centred else "left"


def _stack_top(region: Region, product: PixelBox, total: int) -> int:
    box = region.box
    if region.side in ("left", "right"):
        wanted = (product.y0 + product.y1) // 2 - total // 2
    elif region.side == "above":
        wanted = box.y0 + (box.height - total) // 2
    else:
        wanted = box.y0
    return int(np.clip(wanted, box.y0, max(box.y0, box.y1 - total)))


# --- 3. colour and contrast -------------------------------------------------------------


def choose_text_colors(image: np.ndarray, planned: list[PlannedBox], brand: BrandKit,
                       target: float) -> tuple[dict[TextRole, str], Underlay | None, float]:
    """Per text role, the brand colour with the best worst-case contrast; else an underlay."""
    text_boxes = [p for p in planned if p.role != TextRole.cta]
    if not text_boxes:
        return {}, None, 21.0
    candidates = [brand.colors.text_dark, brand.colors.text_light, brand.colors.primary]
    colors, worst = {}, 21.0
    for item in text_boxes:
        luminance = relative_luminance(_pixels_under(image, item.box))
        best = max(candidates, key=lambda c: _worst_contrast(c, luminance))
        colors[item.role] = best
        worst = min(worst, _worst_contrast(best, luminance))
    if worst >= target:
        return colors, None, worst
    pixels = np.concatenate([_pixels_under(image, p.box) for p in text_boxes])
    underlay, color, worst = least_underlay(pixels, brand, target)
    return {p.role: color for p in text_boxes}, underlay, worst


def least_underlay(pixels: np.ndarray, brand: BrandKit,
                   target: float) -> tuple[Underlay, str, float]:
    """The lightest-touch panel (colour, opacity) that lifts every pixel to `target`."""
    sample = _extremes_and_sample(pixels)
    options = sorted(
        (_least_opacity(text, panel, sample, target), order, text, panel)
        for order, (text, panel) in enumerate(_text_on_panel_pairs(brand))
        if hex_contrast(text, panel) >= target
    )
    opacity, _, text, panel = options[0]
    opacity, worst = _verified_opacity(text, panel, pixels, opacity, target)
    return Underlay(color=panel, opacity=opacity), text, worst


def _extremes_and_sample(pixels: np.ndarray, size: int = 4096) -> np.ndarray:
    """A few thousand pixels, always including the darkest and the lightest."""
    luminance = relative_luminance(pixels)
    extremes = pixels[[int(np.argmin(luminance)), int(np.argmax(luminance))]]
    return np.concatenate([extremes, pixels[:: max(1, len(pixels) // size)]])


def _text_on_panel_pairs(brand: BrandKit) -> list[tuple[str, str]]:
    colors = brand.colors
    return [(colors.text_dark, colors.secondary), (colors.text_dark, "#FFFFFF"),
            (colors.text_light, colors.primary), (colors.text_light, "#000000")]


def _least_opacity(text: str, panel: str, sample: np.ndarray, target: float) -> float:
    """Smallest opacity (2% steps, from the floor) reaching `target` on the sample."""
    rgb = hex_to_rgb(panel)
    for opacity in np.arange(MIN_PANEL_OPACITY, 1.0, 0.02):
        level = round(float(opacity), 2)
        if _worst_contrast(text, relative_luminance(blend_color(sample, rgb, level))) >= target:
            return level
    return 1.0


def _verified_opacity(text: str, panel: str, pixels: np.ndarray, opacity: float,
                      target: float) -> tuple[float, float]:
    """Raise `opacity` until every pixel, blended as the renderer blends it, reaches `target`."""
    rgb = hex_to_rgb(panel)
    while True:
        worst = _worst_contrast(text, relative_luminance(blend_color(pixels, rgb, opacity)))
        if worst >= target or opacity >= 1.0:  # at 1.0 the panel alone, which passes
            return opacity, worst
        opacity = min(1.0, round(opacity + 0.02, 2))


def choose_button_text(fill: str, brand: BrandKit, target: float) -> str:
    """A brand text colour that reads on the button, else black or white."""
    brand_colors = [brand.colors.text_light, brand.colors.text_dark]
    passing = [c for c in brand_colors if hex_contrast(c, fill) >= target]
    if passing:
        return max(passing, key=lambda c: hex_contrast(c, fill))
    return max(("#FFFFFF", "#000000"), key=lambda c: hex_contrast(c, fill))


def _pixels_under(image: np.ndarray, box: PixelBox) -> np.ndarray:
    return image[box.y0:box.y1, box.x0:box.x1].reshape(-1, 3)


def _worst_contrast(color: str, luminance: np.ndarray) -> float:
    if luminance.size == 0:
        return 21.0
    text = float(relative_luminance(np.array(hex_to_rgb(color), dtype=np.uint8)))
    return float(contrast_ratio(text, luminance).min())


def _reason(region: Region, underlay: Underlay | None, worst: float) -> str:
    where = {"left": "left of", "right": "right of", "above": "above",
             "below": "below"}[region.side]
    sentence = (f"Copy sits {where} the product in the calmest open area "
                f"({region.busy:.0%} busy), at {worst:.1f}:1 worst-case contrast")
    if underlay is not None:
        sentence += f" on a {underlay.color} panel at {underlay.opacity:.0%} opacity"
    return sentence + "."
