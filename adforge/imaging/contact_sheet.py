"""The contact sheet: every product x platform, labelled, on one image."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CELL = 220
LABEL = 34
GAP = 12
HEADER = 44
SHEET_BG = (245, 245, 242)


def _label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


class SheetCell(NamedTuple):
    """One ad on the sheet: its thumbnail (see `thumbnail`) and its full size."""

    thumb: np.ndarray
    width: int
    height: int


def thumbnail(image: np.ndarray, size: int = CELL) -> np.ndarray:
    """The ad scaled to fit a sheet cell. The renditions stage makes it while the ad is
    in memory, so the sheet need not decode every full-size ad again (most of its time)."""
    h, w = image.shape[:2]
    scale = min(1.0, size / max(h, w))
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def contact_sheet(products: list[tuple[str, dict[str, SheetCell]]],
                  platforms: list[str]) -> np.ndarray:
    """A grid: one row per product (label = SKU), one column per platform."""
    cols, rows = len(platforms), len(products)
    width = GAP + cols * (CELL + GAP) + 140
    height = HEADER + rows * (CELL + LABEL + GAP) + GAP
    sheet = Image.new("RGB", (width, height), SHEET_BG)
    draw = ImageDraw.Draw(sheet)
    font = _label_font(15)
    for c, platform in enumerate(platforms):
        draw.text((140 + GAP + c * (CELL + GAP), 14), platform, fill=(60, 60, 60), font=font)
    for r, (sku, images) in enumerate(products):
        top = HEADER + r * (CELL + LABEL + GAP)
        draw.text((GAP, top + CELL // 2 - 8), sku, fill=(20, 20, 20), font=font)
        for c, platform in enumerate(platforms):
            left = 140 + GAP + c * (CELL + GAP)
            cell = images.get(platform)
            if cell is None:
                draw.rectangle((left, top, left + CELL, top + CELL), outline=(200, 60, 60))
                draw.text((left + 8, top + CELL // 2), "failed", fill=(200, 60, 60), font=font)
                continue
            th, tw = cell.thumb.shape[:2]
            sheet.paste(Image.fromarray(cell.thumb),
                        (left + (CELL - tw) // 2, top + (CELL - th) // 2))
            draw.text((left, top + CELL + 6), f"{cell.width}x{cell.height}",
                      fill=(110, 110, 110), font=font)
    return np.asarray(sheet)
