"""What a campaign run shows on its flow-run page in the Prefect UI.

- `campaign-summary`: one row per product: status, platforms delivered, canvases held
  for review, errors; its description says how the run ended (counts of published, in
  review and failed products, run id, duration, report link, first failures).
- `campaign-stages`: seconds per stage (from the stage manifests, every canvas summed;
  cached stages count 0).
- `campaign-cost`: per stage and for the run, wall, CPU and GPU seconds, model loading,
  peak GPU memory and dollars (the stage_metrics rows at the run's prices).
- `contact-sheet`: the contact sheet's first page as an image: a presigned link when the
  asset store is S3, otherwise the file itself embedded as a `data:` URL (served by the
  API with the artifact, so the UI shows it with no file server and no network); its
  description counts products and pages. A sheet of more than one page adds
  `contact-sheet-pages`: a link to every page (presigned), or each page's file path (a
  local store: a browser opens no `file:` link from the UI, and embedding every page
  would make the artifact grow with the brief).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
from prefect.artifacts import (
    create_image_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from adforge.db import repository as repo
from adforge.db.metrics import run_cost
from adforge.publishing import run_link, upload_pages
from adforge.stagecache import RunConfig, database, store
from adforge.stages.job import ProductJob
from adforge.stages.publish import run_folder
from flows.notify import outcome_text

CANVAS_FIELDS = ("background", "composite", "layout", "text")


def publish_run_artifacts(cfg: RunConfig, sheets: list[Path], jobs: list[ProductJob],
                          outcome: dict[str, Any]) -> None:
    """The run's artifacts; with an S3 store the contact sheet's pages were uploaded with
    the report (`publish.upload_report`, the step before), so they are only linked here."""
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    create_table_artifact(summary_rows(summary), key="campaign-summary",
                          description=outcome_text(outcome, markdown=True))
    create_table_artifact(stage_seconds(jobs), key="campaign-stages",
                          description=f"run {cfg.run_id}: seconds per stage")
    create_table_artifact(stage_costs(cfg), key="campaign-cost",
                          description=f"run {cfg.run_id}: what each stage used and cost")
    if sheets:
        show_sheet(cfg, sheets, uploaded_links(cfg, sheets), key="contact-sheet",
                   products=len(jobs), title=f"contact sheet of run {cfg.run_id}")


def show_sheet(cfg: RunConfig, pages: list[Path], links: list[str] | None, *, key: str,
               products: int, title: str) -> None:
    """A paged sheet in the UI: its first page as the image artifact `key` (a presigned
    link from `links`, else embedded), its counts in the description; with more pages,
    `<key>-pages` lists every page (links, else file paths)."""
    size = cfg.images.sheet_page_size
    counts = (f"{products} product(s), {len(pages)} page(s) of {size}" if len(pages) > 1
              else f"{products} product(s)")
    more = f"; every page: `{key}-pages`" if len(pages) > 1 else ""
    create_image_artifact(image_url=links[0] if links else data_url(pages[0]), key=key,
                          description=f"{title}, page 1 of {len(pages)} ({counts}){more}")
    if len(pages) == 1:
        return
    if links:
        lines = [f"- [page {n}]({link})" for n, link in enumerate(links, 1)]
    else:
        lines = [f"- page {n}: `{page.resolve()}`" for n, page in enumerate(pages, 1)]
    create_markdown_artifact("\n".join([f"**{title}**: {counts}", "", *lines]),
                             key=f"{key}-pages", description=f"{title}: every page")


def uploaded_links(cfg: RunConfig, pages: list[Path]) -> list[str] | None:
    """Presigned links to pages already beside a remote store's run records; None for a
    local store (the artifact embeds the first page)."""
    assets = store(cfg)
    if not assets.is_remote:
        return None
    return [run_link(assets, cfg.run_id, page.relative_to(run_folder(cfg)).as_posix())
            for page in pages]


def upload_sheet(cfg: RunConfig, pages: list[Path]) -> list[str] | None:
    """A sheet's pages uploaded beside a remote store's run records, as presigned links;
    None for a local store (the artifact embeds the first page)."""
    assets = store(cfg)
    if not assets.is_remote:
        return None
    return upload_pages(assets, run_folder(cfg), cfg.run_id, pages)


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"sku": p["sku"], "status": p["status"],
             "platforms": ", ".join(sorted(r["platform"] for r in p["renditions"])),
             "in review": ", ".join(r["platform"] for r in p.get("reviews", [])
                                    if r["status"] == "pending") or "-",
             "failures": "; ".join(e["message"][:120] for e in p["errors"]) or "-"}
            for p in summary["products"]]


def stage_seconds(jobs: list[ProductJob]) -> list[dict[str, Any]]:
    """Total seconds per stage over the finished products (canvas stages summed over
    every canvas)."""
    totals: dict[str, float] = defaultdict(float)
    cached: dict[str, int] = defaultdict(int)
    for job in jobs:
        manifests = [("segment", job.cutout)]
        manifests += [(name, getattr(canvas, name)) for canvas in job.canvases.values()
                      for name in CANVAS_FIELDS]
        for name, manifest in manifests:
            if manifest is None:
                continue
            totals[name] += manifest.duration_ms / 1000.0
            cached[name] += int(manifest.cached)
    return [{"stage": name, "seconds": round(totals[name], 2), "cached": cached[name]}
            for name in totals]


def stage_costs(cfg: RunConfig) -> list[dict[str, Any]]:
    """`campaign-cost`: per stage (every product and canvas summed) and for the run, the
    wall, CPU and GPU seconds, model loading, peak GPU memory and dollars at the run's
    prices (stage_metrics rows, adforge.metering)."""
    cost = run_cost(database(cfg.db_url), cfg.run_id, cfg.cost)["run"]
    rows = [(stage, used) for stage, used in cost["by_stage"].items()] + [("run", cost)]
    return [{"stage": name, "wall s": round(used["wall_s"], 2),
             "CPU s": round(used["cpu_s"], 2), "GPU s": round(used["gpu_s"], 2),
             "load s": round(used["load_s"], 2),
             "peak GPU GiB": "-" if used["gpu_peak_bytes"] is None
             else round(used["gpu_peak_bytes"] / 2**30, 2),
             "USD": f"{used['usd']:.6f}"} for name, used in rows]


def data_url(path: Path, max_side: int = 1400) -> str:
    """The picture as a JPEG `data:` URL, its longer side at most `max_side`."""
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(f"no picture to show at {path}")
    scale = min(1.0, max_side / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode()
