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
    """A self-contained page: status, per-product thumbnails, metrics and errors.

    `link` turns an s3:// rendition URI into an https link (presigned); `sheet_src` is the
    contact sheet's address relative to the page (or a presigned link)."""
    rows = []
    for product in summary["products"]:
        thumbs = "".join(
            f'<figure><img src="{html.escape(_thumb_src(r["uri"], out_dir, link))}" loading="lazy">'
            f'<figcaption>{html.escape(r["platform"])} {r["width"]}x{r["height"]}</figcaption>'
            "</figure>"
            for r in product["renditions"]
        )
        quality = _quality_line(product.get("quality", {}))
        errors = "".join(
            f'<li class="{html.escape(e["kind"])}">{html.escape(e["stage"])}: '
            f'{html.escape(e["message"])}</li>'
            for e in product["errors"]
        )
        rows.append(
            f'<section class="{html.escape(product["status"])}"><h2>{html.escape(product["sku"])}'
            f' <small>{html.escape(product.get("name") or "")} · {html.escape(product["status"])}'
            f"</small></h2><div class=thumbs>{thumbs}</div><p class=q>{html.escape(quality)}</p>"
            f"<ul>{errors}</ul></section>"
        )
    head = (f"<h1>AdForge run {html.escape(summary['run_id'])}</h1><p>status "
            f"<b>{html.escape(summary['status'])}</b> · profile {html.escape(summary['profile'])}"
            f" · brief {html.escape(summary['brief'])}</p>"
            f'<p><img class=sheet src="{html.escape(sheet_src)}" alt="contact sheet"></p>')
    page = "<!doctype html><meta charset=utf-8><title>AdForge report</title>"
    return f"{page}<style>{_CSS}</style>{head}{''.join(rows)}"


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
li.warning{color:#a60}li{color:#b33}img.sheet{max-width:100%}
"""
