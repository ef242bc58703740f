"""The contact sheet marks a rendition that a fallback helped make, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from adforge.imaging.contact_sheet import CELL, GAP, HEADER, LABEL, SheetCell, contact_sheet

PLATFORMS = ["instagram_post", "instagram_story", "blog_header"]
SIZES = {"instagram_post": (1080, 1080), "instagram_story": (1080, 1920),
         "blog_header": (1200, 600)}
AMBER = np.array([245, 166, 35])


def thumb(width: int, height: int, shade: int) -> np.ndarray:
    scale = CELL / max(width, height)
    return np.full((round(height * scale), round(width * scale), 3), shade, np.uint8)


def sheet(marked: str | None, mark: str | None) -> np.ndarray:
    """Two products (one light, one dark) on every platform; `marked` gets `mark`."""
    grid = []
    for sku, shade in (("LIGHT", 225), ("DARK", 30)):
        cells = {p: SheetCell(thumb(w, h, shade), w, h, mark if p == marked else None)
                 for p, (w, h) in SIZES.items()}
        grid.append((sku, cells))
    return contact_sheet(grid, PLATFORMS)


def test_an_unmarked_cell_is_drawn_as_before_marks_existed() -> None:
    plain = [("A1", {p: SheetCell(thumb(w, h, 90), w, h) for p, (w, h) in SIZES.items()})]
    none = [("A1", {p: SheetCell(thumb(w, h, 90), w, h, None) for p, (w, h) in SIZES.items()})]
    assert np.array_equal(contact_sheet(plain, PLATFORMS), contact_sheet(none, PLATFORMS))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_mark_changes_only_the_top_right_corner_of_its_thumbnails(platform: str) -> None:
    plain, marked = sheet(None, None), sheet(platform, "layout fallback")
    ys, xs = np.nonzero((plain != marked).any(axis=2))
    assert ys.size > 0
    width, height = SIZES[platform]
    th, tw = thumb(width, height, 0).shape[:2]
    column = PLATFORMS.index(platform)
    thumb_right = 140 + GAP + column * (CELL + GAP) + (CELL - tw) // 2 + tw
    assert xs.max() == thumb_right - 1 and xs.min() > thumb_right - CELL
    for row in range(2):  # each product's thumbnail carries its own tag, at its top
        thumb_top = HEADER + row * (CELL + LABEL + GAP) + (CELL - th) // 2
        in_row = ys[(ys >= thumb_top) & (ys < thumb_top + CELL)]
        assert in_row.min() == thumb_top and in_row.max() < thumb_top + 24
    tag = marked[ys, xs]
    assert (np.abs(tag - AMBER).sum(axis=1) < 10).mean() > 0.5  # mostly amber, with ink


def test_a_mark_too_long_for_the_cell_is_shortened() -> None:
    long = "segment + background + layout + text fallback"
    assert np.array_equal(sheet("instagram_story", long),
                          sheet("instagram_story", "fallback"))
