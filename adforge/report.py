"""Run reports: the JSON summary (from the tracking database) and the HTML page."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
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


def render_html(summary: dict[str, Any], out_dir: Path, link: Callable[[str], str] | None = None,
                sheet_src: str = "contact_sheet.png") -> str:
    """A self-contained page: status, first what waits for review (each held canvas with
    its picture and failing gates), then per-product thumbnails (each saying which backend
    made each part, fallbacks with their reason), metrics, decisions and errors.

    `link` turns an s3:// rendition URI into an https link (presigned); `sheet_src` is the
    contact sheet's address relative to the page (or a presigned link)."""
    rows = []
    for product in summary["products"]:
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
        rows.append(
            f'<section class="{html.escape(product["status"])}"><h2>{html.escape(product["sku"])}'
            f' <small>{html.escape(product.get("name") or "")} · {html.escape(product["status"])}'
            f"</small></h2><div class=thumbs>{thumbs}</div><p class=q>{html.escape(quality)}</p>"
            f"<ul>{errors}</ul></section>"
        )
    head = (f"<h1>AdForge run {html.escape(summary['run_id'])}</h1><p>status "
            f"<b>{html.escape(summary['status'])}</b> · profile {html.escape(summary['profile'])}"
            f" · brief {html.escape(summary['brief'])}</p>")
    sheet = f'<p><img class=sheet src="{html.escape(sheet_src)}" alt="contact sheet"></p>'
    page = "<!doctype html><meta charset=utf-8><title>AdForge report</title>"
    waiting = _review_html(summary, out_dir, link)  # the first section: what waits
    return (f"{page}<style>{_CSS}</style>{head}{waiting}{sheet}{''.join(rows)}"
            f"{_run_errors_html(summary)}")


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
li.warning{color:#a60}li{color:#b33}img.sheet{max-width:100%}li.decided{color:#555}
section.review{border:2px solid #d2472a;padding:1rem;background:#fff6f2}
.gates{font-size:12px;color:#b33;max-width:200px}
.made{font-size:11px;color:#777;max-width:200px}.made .fb{color:#a60;font-weight:600}
"""
