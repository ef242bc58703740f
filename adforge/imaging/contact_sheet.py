"""The contact sheet: products x platforms, labelled, a page of products per image.

A run's sheet is split into pages (`contact_sheet-001.png`, `contact_sheet-002.png`...)
of a set number of products each, so that drawing and encoding one needs the memory of
one page whatever the length of the brief; every page looks as a whole sheet used to.

A rendition that a fallback helped make (say Qwen2-VL's layout was refused and the
classic one used) carries an amber tag in its thumbnail's top-right corner; every other
cell is drawn exactly as before such marks existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CELL = 220
LABEL = 34
GAP = 12
HEADER = 44
ROW = CELL + LABEL + GAP  # a product's height on the sheet
SKU_WIDTH = 140  # the products' labels, left of the first column
SHEET_BG = (245, 245, 242)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
BADGE_FILL = (245, 166, 35)  # amber: noticeable on light and dark ads alike
BADGE_INK = (45, 30, 0)
BADGE_PAD = (6, 3)  # horizontal, vertical padding around the tag's words
BADGE_SHORT = "fallback"  # the tag's words when the full mark does not fit the cell


LabelFont = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _label_font(size: int, face: str = "DejaVuSans.ttf") -> LabelFont:
    candidate = FONT_DIR / face
    if candidate.is_file():
        return ImageFont.truetype(str(candidate), size)
    return ImageFont.load_default(size)


def page_name(stem: str, number: int) -> str:
    """`contact_sheet-001.png`: the file of a sheet's page `number` (counted from 1)."""
    return f"{stem}-{number:03d}.png"


def pages_in(folder: Path, stem: str) -> list[Path]:
    """The pages of the sheet `stem` written in `folder`, in page order."""
    numbered = [(path.stem.removeprefix(f"{stem}-"), path)
                for path in folder.glob(f"{stem}-*.png")]
    return [path for _, path in sorted((int(n), p) for n, p in numbered if n.isdigit())]


class SheetCell(NamedTuple):
    """One ad on the sheet: its thumbnail (see `thumbnail`), its full size, and the
    short mark of a fallback that helped make it (see `adforge.report.fallback_mark`)."""

    thumb: np.ndarray
    width: int
    height: int
    fallback: str | None = None
    caption: str | None = None  # under the cell instead of its size (a draft's id, score)


def thumbnail(image: np.ndarray, size: int = CELL) -> np.ndarray:
    """The ad scaled to fit a sheet cell. The renditions stage makes it while the ad is
    in memory, so the sheet need not decode every full-size ad again (most of its time)."""
    h, w = image.shape[:2]
    scale = min(1.0, size / max(h, w))
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def contact_sheet(products: Iterable[tuple[str, dict[str, SheetCell]]], platforms: list[str],
                  count: int | None = None, missing: str = "failed") -> np.ndarray:
    """A grid: one row per product (label = SKU), one column per platform.

    Each product's row is drawn on a strip of its own and copied into the page, so the
    page is held once (as the array returned; a Pillow image of it would be a second copy,
    at four bytes a pixel) and a row's thumbnails are needed only while it is drawn:
    `products` may be a generator that reads them one product at a time, `count` long.
    A product without a cell in a column shows `missing` there (red, "failed"), or
    nothing when `missing` is empty (a draft sheet's products with fewer variants)."""
    rows = len(products) if isinstance(products, Sized) else count
    if rows is None:
        raise ValueError("contact_sheet: give `count` with a generator of products")
    width = _column_left(len(platforms))
    sheet = np.empty((HEADER + rows * ROW + GAP, width, 3), np.uint8)
    sheet[:] = SHEET_BG
    font = _label_font(15)
    header, draw = _strip(width, HEADER)
    for c, platform in enumerate(platforms):
        draw.text((_column_left(c), 14), platform, fill=(60, 60, 60), font=font)
    sheet[:HEADER] = np.asarray(header)
    for r, (sku, images) in enumerate(products):
        strip, draw = _strip(width, ROW)
        product, _, variant = sku.partition("/")  # a variant's key: its id below the SKU
        draw.text((GAP, CELL // 2 - (17 if variant else 8)), product, fill=(20, 20, 20),
                  font=font)
        if variant:
            draw.text((GAP, CELL // 2 + 3), variant, fill=(90, 90, 90), font=font)
        for c, platform in enumerate(platforms):
            if platform in images or missing:
                _draw_cell(strip, draw, font, images.get(platform), _column_left(c), 0)
        sheet[HEADER + r * ROW:HEADER + (r + 1) * ROW] = np.asarray(strip)
    return sheet


def _column_left(column: int) -> int:
    """Where a platform's column starts (right of the SKUs); past the last: the width."""
    return SKU_WIDTH + GAP + column * (CELL + GAP)


def _strip(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    strip = Image.new("RGB", (width, height), SHEET_BG)
    return strip, ImageDraw.Draw(strip)


def _draw_cell(sheet: Image.Image, draw: ImageDraw.ImageDraw, font: LabelFont,
               cell: SheetCell | None, left: int, top: int) -> None:
    """One cell: the centred thumbnail and its size below, or a red "failed" box."""
    if cell is None:
        draw.rectangle((left, top, left + CELL, top + CELL), outline=(200, 60, 60))
        draw.text((left + 8, top + CELL // 2), "failed", fill=(200, 60, 60), font=font)
        return
    th, tw = cell.thumb.shape[:2]
    x, y = left + (CELL - tw) // 2, top + (CELL - th) // 2
    sheet.paste(Image.fromarray(cell.thumb), (x, y))
    draw.text((left, top + CELL + 6), cell.caption or f"{cell.width}x{cell.height}",
              fill=(110, 110, 110), font=font)
    if cell.fallback:
        _draw_badge(draw, cell.fallback, right=x + tw, top=y, room=x + tw - left)


def _draw_badge(draw: ImageDraw.ImageDraw, words: str, *, right: int, top: int,
                room: int) -> None:
    """An amber tag flush with the thumbnail's top-right corner, its outer corner square
    and its inner one rounded; `room` is how far left it may reach (the cell's edge)."""
    font = _label_font(11, "DejaVuSans-Bold.ttf")
    pad_x, pad_y = BADGE_PAD
    if draw.textlength(words, font=font) + 2 * pad_x > room:
        words = BADGE_SHORT
    x0, y0, x1, y1 = draw.textbbox((0, 0), words, font=font)
    box = (right - (x1 - x0) - 2 * pad_x, top, right - 1, top + (y1 - y0) + 2 * pad_y - 1)
    draw.rounded_rectangle(box, radius=4, fill=BADGE_FILL,
                           corners=(False, False, False, True))
    draw.text((box[0] + pad_x - x0, top + pad_y - y0), words, fill=BADGE_INK, font=font)
