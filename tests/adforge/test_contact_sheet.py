"""The contact sheet marks a rendition that a fallback helped make, and nothing else; a
page drawn row by row is the sheet drawn whole; pages are named and found in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adforge.imaging.contact_sheet import (
    CELL,
    GAP,
    HEADER,
    LABEL,
    ROW,
    SheetCell,
    contact_sheet,
    page_name,
    pages_in,
)

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


def test_a_generator_of_products_draws_the_same_sheet() -> None:
    """The publish stage hands the products over one at a time (each product's thumbnails
    read as its row is drawn): the page is the one a list of them gives."""
    products = [("LIGHT", {p: SheetCell(thumb(w, h, 225), w, h, "layout fallback")
                           for p, (w, h) in SIZES.items()}),
                ("DARK", {"blog_header": SheetCell(thumb(1200, 600, 30), 1200, 600)})]
    drawn = contact_sheet(iter(products), PLATFORMS, count=len(products))
    assert np.array_equal(drawn, contact_sheet(products, PLATFORMS))
    assert drawn.shape == (HEADER + 2 * ROW + GAP, 140 + GAP + 3 * (CELL + GAP), 3)
    with pytest.raises(ValueError, match="count"):
        contact_sheet(iter(products), PLATFORMS)


def test_pages_are_found_in_page_order(tmp_path: Path) -> None:
    for number in (1000, 2, 999, 1, 10):
        (tmp_path / page_name("contact_sheet", number)).touch()
    (tmp_path / "contact_sheet-notes.png").touch()
    (tmp_path / "review_sheet-001.png").touch()
    assert [p.name for p in pages_in(tmp_path, "contact_sheet")] == [
        "contact_sheet-001.png", "contact_sheet-002.png", "contact_sheet-010.png",
        "contact_sheet-999.png", "contact_sheet-1000.png"]
