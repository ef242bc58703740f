"""Prefect events for what a campaign run did, for automations to act on.

    adforge.product.published      every canvas of a product was delivered
    adforge.product.needs-review   a quality gate holds some of a product's canvases
    adforge.run.finished           the run ended: its status, counts, report, delivery

The run's resource is `adforge.run.<run id>`, labelled `adforge.status` (completed,
partial, failed), `adforge.brand` and `adforge.brief`, so an automation can match "this
brief's runs that completed". A product's resource is `adforge.product.<run id>.<sku>`,
related to its run (role `run`). Emitted inside the flow run, each event is related to
the flow run as well (Prefect adds that), and shows on its page in the UI. An event
that cannot be sent is logged by Prefect, never raised: the run is over by then.
"""

from __future__ import annotations

from typing import Any

from prefect.events import emit_event

from adforge.db import repository as repo
from adforge.stagecache import RunConfig, database


def run_resource_id(run_id: str) -> str:
    return f"adforge.run.{run_id}"


def product_resource_id(run_id: str, sku: str) -> str:
    return f"adforge.product.{run_id}.{sku}"


def emit_run_events(cfg: RunConfig, outcome: dict[str, Any]) -> None:
    """One event per published product, one per product waiting for review, then the
    run's `adforge.run.finished` with its outcome (`finish_run`'s)."""
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    for product in summary["products"]:
        if product["status"] == "done":
            _emit_product("adforge.product.published", cfg.run_id, product, {
                "renditions": [{key: r[key] for key in ("platform", "width", "height", "uri")}
                               for r in product["renditions"]]})
        elif product["status"] == "needs-review":
            _emit_product("adforge.product.needs-review", cfg.run_id, product, {
                "waiting": [{"platform": r["platform"], "failing": r["failing"]}
                            for r in product["reviews"] if r["status"] == "pending"]})
    emit_event(event="adforge.run.finished", resource={
        "prefect.resource.id": run_resource_id(cfg.run_id),
        "prefect.resource.name": f"AdForge run {cfg.run_id}",
        "adforge.status": str(outcome["status"]), "adforge.brand": summary["brand"],
        "adforge.brief": summary["brief"]}, payload=_run_payload(summary, outcome))


def _emit_product(event: str, run_id: str, product: dict[str, Any],
                  details: dict[str, Any]) -> None:
    emit_event(event=event, resource={
        "prefect.resource.id": product_resource_id(run_id, product["sku"]),
        "prefect.resource.name": product["sku"], "adforge.run": run_id},
        related=[{"prefect.resource.id": run_resource_id(run_id),
                  "prefect.resource.role": "run"}],
        payload={"run_id": run_id, "sku": product["sku"], "name": product["name"]} | details)


def _run_payload(summary: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": summary["run_id"], "status": outcome["status"],
            "counts": outcome["counts"], "brief": summary["brief"], "brand": summary["brand"],
            "profile": summary["profile"], "report": outcome.get("report"),
            "report_url": outcome.get("report_url"), "delivery": outcome.get("delivery"),
            "duration_s": outcome.get("duration_s")}
