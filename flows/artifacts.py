"""What a campaign run shows on its flow-run page in the Prefect UI.

- `campaign-summary`: one row per product: status, platforms delivered, canvases held
  for review, errors; its description says how the run ended (counts of published, in
  review and failed products, run id, duration, report link, first failures).
- `campaign-stages`: seconds per stage (from the stage manifests, every canvas summed;
  cached stages count 0).
- `contact-sheet`: the contact sheet as an image: a presigned link when the asset store
  is S3, otherwise the file itself embedded as a `data:` URL (served by the API with the
  artifact, so the UI shows it with no file server and no network).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
from prefect.artifacts import create_image_artifact, create_table_artifact

from adforge.db import repository as repo
from adforge.publishing import upload_contact_sheet
from adforge.stagecache import RunConfig, database, store
from adforge.stages.job import ProductJob
from flows.notify import outcome_text

CANVAS_FIELDS = ("background", "composite", "layout", "text")


def publish_run_artifacts(cfg: RunConfig, sheet: Path | None, jobs: list[ProductJob],
                          outcome: dict[str, Any]) -> None:
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    create_table_artifact(summary_rows(summary), key="campaign-summary",
                          description=outcome_text(outcome, markdown=True))
    create_table_artifact(stage_seconds(jobs), key="campaign-stages",
                          description=f"run {cfg.run_id}: seconds per stage")
    if sheet is not None:
        create_image_artifact(image_url=contact_sheet_url(cfg, sheet), key="contact-sheet",
                              description=f"contact sheet of run {cfg.run_id}")


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


def contact_sheet_url(cfg: RunConfig, sheet: Path) -> str:
    """A presigned link to the sheet uploaded beside a remote store's records, else the
    file itself as a `data:` URL."""
    assets = store(cfg)
    return upload_contact_sheet(assets, cfg.run_id, sheet) if assets.is_remote \
        else data_url(sheet)


def image_url(cfg: RunConfig, picture: Path, name: str) -> str:
    """A picture for an image artifact: uploaded beside a remote store's run records
    (`runs/<run>/<name>`) as a presigned link, else embedded as a `data:` URL."""
    assets = store(cfg)
    if not assets.is_remote:
        return data_url(picture)
    key = f"runs/{cfg.run_id}/{name}"
    assets.put_bytes(key, picture.read_bytes(), "image/png")
    return assets.presign(key) or data_url(picture)


def data_url(path: Path, max_side: int = 1400) -> str:
    image = cv2.imread(str(path))
    scale = min(1.0, max_side / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode()
