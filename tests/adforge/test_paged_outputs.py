"""The run's contact sheet, review sheet and report come in pages of
`images.sheet_page_size` products, built by the publish stage's own writers from a real
local store and tracking database; pages an earlier writing left behind go."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adforge.imageio import decode_png
from adforge.imaging.contact_sheet import GAP, HEADER, ROW, SheetCell, contact_sheet
from adforge.stages import publish
from adforge.stages.job import ProductJob
from tests.sheet_inputs import (
    SHADES,
    SIZES,
    record_products,
    sheet_config,
    synthetic_jobs,
    thumb,
    with_page_size,
)

PLATFORMS = list(SIZES)


def expected_page(jobs: list[ProductJob]) -> np.ndarray:
    """The page those products make: their thumbnails, `review` on the held canvases."""
    grid = []
    for job in jobs:
        number = int(job.sku.removeprefix("SKU-"))
        grid.append((job.sku, {
            platform: SheetCell(thumb(platform, number % SHADES), *SIZES[platform],
                                "review" if publish.is_held(canvas) else None)
            for platform, canvas in job.canvases.items()}))
    return contact_sheet(grid, PLATFORMS)


def names(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


def test_the_contact_sheet_is_written_in_pages(tmp_path: Path) -> None:
    cfg = sheet_config(tmp_path, page_size=2)
    jobs = synthetic_jobs(cfg, 5, held_every=2)
    pages = publish.write_contact_sheets(cfg, jobs, PLATFORMS)
    assert names(pages) == ["contact_sheet-001.png", "contact_sheet-002.png",
                            "contact_sheet-003.png"]
    assert all(page.parent == publish.run_folder(cfg) for page in pages)
    for page, products in zip(pages, (jobs[0:2], jobs[2:4], jobs[4:5]), strict=True):
        assert np.array_equal(decode_png(page.read_bytes()), expected_page(products))
    assert decode_png(pages[2].read_bytes()).shape[0] == HEADER + ROW + GAP

    fewer = publish.write_contact_sheets(with_page_size(cfg, 5), jobs, PLATFORMS)
    assert names(fewer) == ["contact_sheet-001.png"]  # the other two pages are gone
    assert sorted(p.name for p in publish.run_folder(cfg).glob("*.png")) == names(fewer)
    assert np.array_equal(decode_png(fewer[0].read_bytes()), expected_page(jobs))


def test_the_review_sheet_pages_only_the_held_canvases(tmp_path: Path) -> None:
    cfg = sheet_config(tmp_path, page_size=2)
    jobs = synthetic_jobs(cfg, 5, held_every=2)  # SKU-00000, -00002, -00004: the story
    pages = publish.write_review_sheets(cfg, jobs)
    assert names(pages) == ["review_sheet-001.png", "review_sheet-002.png"]
    assert all(page.parent == publish.run_folder(cfg) / "review" for page in pages)
    first = decode_png(pages[0].read_bytes())
    story = {"instagram_story": SheetCell(thumb("instagram_story", 0), 1080, 1920, "review")}
    grid = [("SKU-00000", story), ("SKU-00002", {"instagram_story": SheetCell(
        thumb("instagram_story", 2), 1080, 1920, "review")})]
    assert np.array_equal(first, contact_sheet(grid, ["instagram_story"]))

    nothing_held = synthetic_jobs(cfg, 5)
    assert publish.write_review_sheets(cfg, nothing_held) == []
    assert list((publish.run_folder(cfg) / "review").glob("*.png")) == []


def test_the_report_is_written_in_pages_that_link_each_other(tmp_path: Path) -> None:
    cfg = sheet_config(tmp_path, page_size=2)
    jobs = synthetic_jobs(cfg, 5)
    record_products(cfg, jobs)
    publish.write_contact_sheets(cfg, jobs, PLATFORMS)
    first = publish.write_report(cfg)
    folder = publish.run_folder(cfg)
    assert first == folder / "report.html"
    assert sorted(p.name for p in folder.glob("report*.html")) == [
        "report-002.html", "report-003.html", "report.html"]
    page1, page3 = first.read_text(), (folder / "report-003.html").read_text()
    assert "SKU-00001" in page1 and "SKU-00002" not in page1
    assert 'src="contact_sheet-001.png"' in page1 and 'href="contact_sheet-003.png"' in page1
    assert 'href="report-002.html"' in page1 and "page 1 of 3 (products 1-2 of 5)" in page1
    assert "SKU-00004" in page3 and "SKU-00003" not in page3
    assert 'href="report.html"' in page3 and "contact_sheet" not in page3

    publish.write_report(with_page_size(cfg, 5))
    assert [p.name for p in folder.glob("report*.html")] == ["report.html"]
    assert all(job.sku in first.read_text() for job in jobs)
