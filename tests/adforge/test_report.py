"""The HTML report says which backend made each part of every rendition; a long run's
report comes in pages that link each other."""

from __future__ import annotations

import re
from pathlib import Path

from adforge.report import (
    describe_part,
    fallback_mark,
    render_html,
    report_page_name,
    report_pages,
)

CLASSIC = {"segment": {"backend": "classic"},
           "background": {"backend": "procedural", "width": 1080, "height": 1920},
           "layout": {"backend": "classic"}, "text": {"backend": "typeset"}}
FELL_BACK = {"segment": {"backend": "birefnet"},
             "background": {"backend": "flux", "width": 1200, "height": 600,
                            "generated": [1440, 720]},
             "layout": {"backend": "classic", "fallback_from": "qwen2-vl",
                        "reason": "answer overlapped the product"},
             "text": {"backend": "typeset", "fallback_from": "qwen-image-edit",
                      "reason": "OCR read <Sale> & not <Sole>"}}
NEURAL = FELL_BACK | {"layout": {"backend": "qwen2-vl"},
                      "text": {"backend": "edit", "attempts": 2}}


def summary(*backends: dict | None) -> dict:
    renditions = [{"platform": f"p{i}", "width": 1200, "height": 600,
                   "uri": f"file:///out/r/A1/p{i}.png", "backends": made}
                  for i, made in enumerate(backends)]
    return {"run_id": "run-1", "status": "completed", "profile": "tiny", "brief": "b.csv",
            "products": [{"sku": "A1", "name": "Mug", "status": "done", "errors": [],
                          "renditions": renditions, "quality": {}}]}


def test_parts_in_words() -> None:
    assert describe_part("layout", FELL_BACK["layout"]) == (
        "layout: classic (fallback from qwen2-vl: answer overlapped the product)")
    assert describe_part("text", {"backend": "edit", "attempts": 1}) == "text: edit (1 attempt)"
    assert describe_part("text", NEURAL["text"]) == "text: edit (2 attempts)"
    assert describe_part("background", FELL_BACK["background"]) == "background: flux"
    assert describe_part("layout", {"backend": "classic", "fallback_from": "qwen2-vl"}) == (
        "layout: classic (fallback from qwen2-vl)")


def test_report_names_every_backend_and_escapes_the_reason(tmp_path: Path) -> None:
    page = render_html(summary(FELL_BACK, NEURAL), Path("/out/r"))
    assert ("<span class=fb>layout: classic (fallback from qwen2-vl: answer overlapped "
            "the product)</span>") in page
    assert ("<span class=fb>text: typeset (fallback from qwen-image-edit: OCR read "
            "&lt;Sale&gt; &amp; not &lt;Sole&gt;)</span>") in page
    assert "<Sale>" not in page
    assert ("<div class=made>segment: birefnet · background: flux · layout: qwen2-vl"
            " · text: edit (2 attempts)</div>") in page


def test_report_without_fallbacks_marks_nothing(tmp_path: Path) -> None:
    page = render_html(summary(CLASSIC), Path("/out/r"))
    assert ("<div class=made>segment: classic · background: procedural · layout: classic"
            " · text: typeset</div>") in page
    assert "class=fb>" not in page and "fallback from" not in page


def test_renditions_recorded_before_backends_show_no_line() -> None:
    page = render_html(summary(None, {}), Path("/out/r"))
    assert "<div class=made>" not in page and "p1 1200x600" in page


def test_fallback_mark() -> None:
    assert fallback_mark(CLASSIC) is None and fallback_mark(NEURAL) is None
    assert fallback_mark(None) is None and fallback_mark({}) is None
    assert fallback_mark(FELL_BACK) == "layout + text fallback"
    assert fallback_mark(NEURAL | {"layout": FELL_BACK["layout"]}) == "layout fallback"
    assert fallback_mark(NEURAL | {"text": FELL_BACK["text"]}) == "text fallback"


def long_run(products: int) -> dict:
    """A run of many products, one canvas of the first waiting for review, one row of
    the brief refused."""
    run = summary(CLASSIC)
    first = run["products"][0]
    run["products"] = [first | {"sku": f"P{i:04d}"} for i in range(products)]
    run["products"][0]["reviews"] = [{"sku": "P0000", "platform": "p0", "status": "pending",
                                      "picture": "/out/r/review/P0000/p0.png",
                                      "failing": []}]
    run["errors"] = [{"kind": "validation", "sku": "BAD-1", "message": "image missing"}]
    return run


def test_report_pages_split_the_products_and_keep_the_run_on_the_first() -> None:
    run = long_run(5)
    pages = report_pages(run, 2)
    assert [page.number for page in pages] == [1, 2, 3]
    first, second, last = (render_html(run, Path("/out/r"), sheets=["s-1.png", "s-2.png"],
                                       page=page) for page in pages)
    assert "P0001" in first and "P0002" not in first
    assert "Needs review (1)" in first and "Refused at validation (1)" in first
    assert 'src="s-1.png"' in first and 'href="s-2.png"' in first
    assert "P0002" in second and "P0003" in second and "P0001" not in second
    assert "Needs review" not in second and "Refused" not in second and "s-1" not in second
    assert "P0004" in last and "page 3 of 3 (products 5-5 of 5)" in last
    assert 'href="report.html">1<' in last and 'href="report-002.html">2<' in last


def test_a_single_page_report_has_no_pager() -> None:
    run = long_run(3)
    [page] = report_pages(run, 40)
    html = render_html(run, Path("/out/r"), sheets=["contact_sheet-001.png"], page=page)
    assert "<nav" not in html and "class=pages" not in html
    assert html.count("<img class=sheet") == 1 and all(f"P{i:04d}" in html for i in range(3))
    assert html == render_html(run, Path("/out/r"), sheets=["contact_sheet-001.png"])


def test_a_page_links_to_a_bounded_number_of_pages() -> None:
    """The first, the last and the two on each side: a page does not grow with the run."""
    run = long_run(1000)
    pages = report_pages(run, 10, href=lambda n: f"https://x/{n}")
    html = render_html(run, Path("/out/r"), page=pages[49])
    linked = sorted({int(n) for n in re.findall(r'href="https://x/(\d+)"', html)})
    assert linked == [1, 48, 49, 51, 52, 100]
    assert "page 50 of 100 (products 491-500 of 1000)" in html
    assert report_page_name(1) == "report.html" and report_page_name(12) == "report-012.html"
