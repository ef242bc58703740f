"""Run reports: the JSON summary (from the tracking database) and the HTML pages.

A pure renderer: it turns the summary into pages of HTML and never reads or writes a
file; `adforge.stages.publish` writes (and uploads) what it returns."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _thumb_src(uri: str, out_dir: Path, link: Callable[[str], str] | None = None) -> str:
    if link is not None and uri.startswith("s3://"):
        return link(uri)  # a presigned https link to the object
    path = Path(uri.removeprefix("file://"))
    try:
        return os.path.relpath(path, out_dir)
    except ValueError:
        return uri


REPORT = "report.html"


def report_page_name(number: int) -> str:
    """`report.html`, then `report-002.html`, `report-003.html`...: the report's pages
    (the first keeps the name every link and command already gives)."""
    return REPORT if number == 1 else f"report-{number:03d}.html"


@dataclass(frozen=True)
class Page:
    """One page of the report: page `number` (from 1) of pages of `size` products each
    (0: every product on one page); `href(n)` is page n's address from another page (a
    file name beside it, or a presigned link)."""

    number: int = 1
    size: int = 0
    href: Callable[[int], str] = report_page_name

    def count(self, products: int) -> int:
        return 1 if self.size == 0 else max(1, -(-products // self.size))

    def products(self, every: list[Any]) -> list[Any]:
        if self.size == 0:
            return every
        return every[(self.number - 1) * self.size:self.number * self.size]


def report_pages(summary: dict[str, Any], size: int,
                 href: Callable[[int], str] = report_page_name) -> list[Page]:
    """Every page of the run's report, `size` products a page."""
    first = Page(1, size, href)
    return [Page(number, size, href)
            for number in range(1, first.count(len(summary["products"])) + 1)]


def render_html(summary: dict[str, Any], out_dir: Path, link: Callable[[str], str] | None = None,
                sheets: Sequence[str] = (), page: Page = Page()) -> str:
    """A self-contained page: status, first what waits for review (each held canvas with
    its picture and failing gates), then per-product thumbnails (each saying which backend
    made each part, fallbacks with their reason), metrics, decisions and errors.

    A long run's report is paged (`page`): the first page holds what concerns the whole
    run (what waits for review, the contact sheet, the rows the brief refused) and its
    first products, each further page only its products; every page links to its
    neighbours. `link` turns an s3:// rendition URI into an https link (presigned);
    `sheets` are the contact sheet's pages' addresses relative to the page (or presigned
    links): the first is shown, all are linked."""
    products = page.products(summary["products"])
    rows = "".join(_product_html(product, out_dir, link) for product in products)
    head = (f"<h1>AdForge run {html.escape(summary['run_id'])}</h1><p>status "
            f"<b>{html.escape(summary['status'])}</b> · profile {html.escape(summary['profile'])}"
            f" · brief {html.escape(summary['brief'] + cost_words(summary.get('cost')))}</p>")
    pager = _pager_html(page, len(summary["products"]))
    start = f"<!doctype html><meta charset=utf-8><title>AdForge report</title><style>{_CSS}</style>"
    if page.number > 1:
        return f"{start}{head}{pager}{rows}{pager}"
    waiting = _review_html(summary, out_dir, link)  # the first section: what waits
    delivered = _delivery_html(summary)  # whether the results webhook took the results
    return (f"{start}{head}{delivered}{pager}{waiting}{_sheets_html(sheets)}{rows}{pager}"
            f"{_run_errors_html(summary)}")


def _product_html(product: dict[str, Any], out_dir: Path,
                  link: Callable[[str], str] | None) -> str:
    """One product's section: its renditions, failed checks, errors and decisions."""
    thumbs = "".join(
        f'<figure><img src="{html.escape(_thumb_src(r["uri"], out_dir, link))}" loading="lazy">'
        f'<figcaption>{html.escape(r["platform"])} {r["width"]}x{r["height"]}</figcaption>'
        f"{_made_by_html(r.get('backends'))}</figure>"
        for r in product["renditions"]
    )
    quality = _quality_line(product.get("quality", {}))
    errors = "".join(
        f'<li class="{html.escape(e["kind"])}">{html.escape(e["stage"])}: '
        f'{html.escape(e["message"])}</li>'
        for e in product["errors"]
    ) + "".join(_decision_html(r) for r in product.get("reviews", [])
                if r["status"] != "pending")
    return (f'<section class="{html.escape(product["status"])}"><h2>{html.escape(product["sku"])}'
            f' <small>{html.escape(product.get("name") or "")} · {html.escape(product["status"])}'
            f"</small></h2><div class=thumbs>{thumbs}</div><p class=q>"
            f"{html.escape(quality + cost_words(product.get('cost')))}</p>"
            f"<ul>{errors}</ul></section>")


def _sheets_html(sheets: Sequence[str]) -> str:
    """The contact sheet's first page as a picture; with more pages, a link to each."""
    if not sheets:
        return ""
    picture = f'<p><img class=sheet src="{html.escape(sheets[0])}" alt="contact sheet"></p>'
    if len(sheets) == 1:
        return picture
    links = " ".join(f'<a href="{html.escape(src)}">{number}</a>'
                     for number, src in enumerate(sheets, 1))
    return (f"<p class=pages>Contact sheet, {len(sheets)} pages (the first below): "
            f"{links}</p>{picture}")


def _pager_html(page: Page, products: int) -> str:
    """`page 3 of 50 (products 81-120 of 2000): 1 … 2 3 4 … 50`: the first and last
    pages and the current one's neighbours, so a page's links do not grow with the run."""
    count = page.count(products)
    if count == 1:
        return ""
    shown = sorted({1, count, *range(max(1, page.number - 2), min(count, page.number + 2) + 1)})
    parts, previous = [], 0
    for number in shown:
        if number - previous > 1:
            parts.append("…")
        parts.append(f"<b>{number}</b>" if number == page.number
                     else f'<a href="{html.escape(page.href(number))}">{number}</a>')
        previous = number
    first = (page.number - 1) * page.size + 1
    last = min(products, page.number * page.size)
    return (f"<nav class=pages>page {page.number} of {count} (products {first}-{last} of "
            f"{products}): {' '.join(parts)}</nav>")


def _run_errors_html(summary: dict[str, Any]) -> str:
    """What belongs to no product of the run: the brief's rows refused at validation
    (they never became products, and a report without them would hide them) and the
    run's warnings about its inputs."""
    loose = summary.get("errors") or []
    refused = [e for e in loose if e["kind"] != "warning"]
    warnings = [e for e in loose if e["kind"] == "warning"]
    parts = []
    if refused:
        items = "".join(f'<li class="{html.escape(e["kind"])}"><b>{html.escape(e["sku"] or "")}'
                        f'</b> {html.escape(e["message"])}</li>' for e in refused)
        parts.append(f'<section class=failed><h2>Refused at validation ({len(refused)})</h2>'
                     f"<p>Rows of the brief that were not run; fix them and run the brief "
                     f"again.</p><ul>{items}</ul></section>")
    if warnings:
        items = "".join(f'<li class=warning>{html.escape(e["message"])}</li>'
                        for e in warnings)
        parts.append(f"<section><h2>Warnings about the inputs</h2><ul>{items}</ul></section>")
    return "".join(parts)


def _delivery_html(summary: dict[str, Any]) -> str:
    """The results webhook (adforge.delivery): a line once it accepted the results,
    else every failed attempt since it last did, and how to send them again."""
    attempts = summary.get("deliveries") or []
    if not attempts:
        return ""
    last = attempts[-1]
    if last["ok"]:
        return (f"<p>Results delivered to {html.escape(last['url'])} (HTTP "
                f"{last['status_code']}, attempt {last['attempt']}).</p>")
    accepted = [number for number, attempt in enumerate(attempts) if attempt["ok"]]
    failed = attempts[accepted[-1] + 1:] if accepted else attempts
    items = "".join(f"<li>attempt {a['attempt']}: {html.escape(a['error'] or '?')}</li>"
                    for a in failed)
    return (f"<section class=failed><h2>Delivery failed</h2><p>The results webhook "
            f"{html.escape(last['url'])} did not take the results; send them again with "
            f"<code>adforge deliver {html.escape(summary['run_id'])}</code>.</p>"
            f"<ul>{items}</ul></section>")


def pending_reviews(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Every canvas of the run that waits for a person's decision."""
    return [r for p in summary["products"] for r in p.get("reviews", [])
            if r["status"] == "pending"]


def failing_words(item: dict[str, Any]) -> str:
    """`segment_confidence 0.02 (threshold 0.5)`, for every failing gate of an item."""
    return ", ".join(f"{f['gate']} {f['value']:.3g} (threshold {f['threshold']:g})"
                     for f in item["failing"]) or "no gate recorded"


def _review_html(summary: dict[str, Any], out_dir: Path,
                 link: Callable[[str], str] | None) -> str:
    """The first section: what a quality gate held back, not delivered."""
    items = pending_reviews(summary)
    if not items:
        return ""
    figures = "".join(
        f'<figure><img src="{html.escape(_thumb_src(r["picture"], out_dir, link))}" '
        f'loading="lazy"><figcaption>{html.escape(r["sku"])} · {html.escape(r["platform"])}'
        f'</figcaption><div class=gates>{html.escape(failing_words(r))}</div></figure>'
        for r in items)
    command = f"adforge approve|reject {summary['run_id']} SKU --platform P"
    return (f'<section class=review><h2>Needs review ({len(items)})</h2><p>Held back by a '
            f"quality gate after every repair; not delivered. Decide with "
            f"<code>{html.escape(command)}</code>.</p><div class=thumbs>{figures}</div>"
            f"</section>")


def _decision_html(review: dict[str, Any]) -> str:
    reason = f": {review['reason']}" if review.get("reason") else ""
    return (f'<li class=decided>{html.escape(review["platform"])} {html.escape(review["status"])}'
            f' by {html.escape(str(review["decided_by"]))}{html.escape(reason)}</li>')


# The parts of a rendition in the order the pipeline makes them; others follow, sorted.
PARTS = ("segment", "background", "layout", "text")


def _ordered_parts(backends: dict[str, Any]) -> list[str]:
    return [p for p in PARTS if p in backends] + sorted(set(backends) - set(PARTS))


def describe_part(part: str, made: dict[str, Any]) -> str:
    """`layout: classic (fallback from qwen2-vl: answer overlapped the product)`,
    `text: edit (2 attempts)`, `segment: birefnet`: one part of a rendition in words."""
    name = str(made.get("backend", "?"))
    if "fallback_from" in made:
        reason = made.get("reason")
        because = f": {reason}" if reason else ""
        return f"{part}: {name} (fallback from {made['fallback_from']}{because})"
    if "attempts" in made:
        attempts = int(made["attempts"])
        return f"{part}: {name} ({attempts} attempt{'' if attempts == 1 else 's'})"
    return f"{part}: {name}"


def fallback_parts(backends: dict[str, Any] | None) -> list[str]:
    """The parts of a rendition that a fallback made, in pipeline order."""
    backends = backends or {}
    return [p for p in _ordered_parts(backends) if "fallback_from" in backends[p]]


def fallback_mark(backends: dict[str, Any] | None) -> str | None:
    """The contact sheet's short mark for a rendition that a fallback helped make
    ("layout fallback", "layout + text fallback"), or None when every part came from the
    backend the profile asked for (as on the classic profile)."""
    parts = fallback_parts(backends)
    return f"{' + '.join(parts)} fallback" if parts else None


def _made_by_html(backends: dict[str, Any] | None) -> str:
    """One small line under a thumbnail: what made each part; fallbacks stand out.
    Nothing for renditions recorded before backends were (None) or without any."""
    if not backends:
        return ""
    spans = []
    for part in _ordered_parts(backends):
        words = html.escape(describe_part(part, backends[part]))
        fell_back = "fallback_from" in backends[part]
        spans.append(f"<span class=fb>{words}</span>" if fell_back else words)
    return f"<div class=made>{' · '.join(spans)}</div>"


def _quality_line(quality: dict[str, dict[str, Any]]) -> str:
    """Failed checks first: `platform metric value` for every check that did not pass."""
    failed = [f"{subject} {metric} {check['value']:.2f}"
              for subject, metrics in sorted(quality.items())
              for metric, check in sorted(metrics.items()) if not check["passed"]]
    return "all checks passed" if not failed else "failed: " + ", ".join(failed)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;background:#fafaf8;color:#222}
section{border-top:1px solid #ddd;padding:1rem 0}section.failed h2{color:#b33}
.thumbs{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-end}
figure{margin:0}figure img{max-width:200px;max-height:200px;display:block;border:1px solid #ddd}
figcaption{font-size:12px;color:#666}.q{font-size:12px;color:#555}
li.warning{color:#a60}.pages{font-size:14px;margin:.5rem 0}
li{color:#b33}img.sheet{max-width:100%}li.decided{color:#555}
section.review{border:2px solid #d2472a;padding:1rem;background:#fff6f2}
.gates{font-size:12px;color:#b33;max-width:200px}
.made{font-size:11px;color:#777;max-width:200px}.made .fb{color:#a60;font-weight:600}
"""


def cost_words(cost: dict[str, Any] | None) -> str:
    """` · cost $0.000120 (CPU 8.6 s, GPU 0.0 s)`: what a product or run cost at the run's
    prices (adforge.db.metrics); nothing where no cost was recorded."""
    if not cost:
        return ""
    usd = cost["usd"]
    dollars = f"${usd:.2f}" if usd >= 0.01 else f"${usd:.6f}"
    return f" · cost {dollars} (CPU {cost['cpu_s']:.1f} s, GPU {cost['gpu_s']:.1f} s)"
