"""The HTML report says which backend made each part of every rendition."""

from __future__ import annotations

from pathlib import Path

from adforge.report import describe_part, fallback_mark, render_html

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
