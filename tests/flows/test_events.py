"""The Prefect events a campaign run emits, read back through the harness server's API:
one per published product, one per product a quality gate holds, then the run's
`adforge.run.finished` with its status and counts, each related to the flow run."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from tests.review_inputs import CLEAN_SKU, CLUTTERED_SKU, write_review_campaign

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def adforge_events(since: dt.datetime, run_id: str, timeout_s: float = 60) -> list[Any]:
    """The run's `adforge.*` events, once its `adforge.run.finished` is stored (the server
    stores events a moment after they are sent; a missing one fails the test)."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

    deadline = time.monotonic() + timeout_s
    while True:
        with get_client(sync_client=True) as client:
            page = client.read_events(EventFilter(
                event=EventNameFilter(prefix=["adforge."]),
                occurred=EventOccurredFilter(since=since)), limit=50)
        events = [e for e in page.events if run_id in e.resource.id]
        if any(e.event == "adforge.run.finished" for e in events):
            return events
        assert time.monotonic() < deadline, f"no adforge.run.finished for {run_id}"
        time.sleep(0.5)


def test_a_run_emits_its_products_and_its_end_as_prefect_events(adforge_env: Path) -> None:
    from flows.brand_content import brand_content

    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    brief, brand = write_review_campaign(adforge_env / "in")

    result = brand_content(brief=str(brief), brand=str(brand), platforms=["blog_header"])

    run_id = result["run_id"]
    events = {e.event: e for e in adforge_events(since, run_id)}
    assert set(events) == {"adforge.product.published", "adforge.product.needs-review",
                           "adforge.run.finished"}
    finished = events["adforge.run.finished"]
    assert finished.resource.id == f"adforge.run.{run_id}"
    assert finished.resource["adforge.status"] == "partial" == result["status"]
    assert finished.resource["adforge.brief"] == str(brief)
    assert finished.payload["counts"] == {"published": 1, "in_review": 1, "failed": 0}
    assert finished.payload["delivery"] == {"status": "off", "attempts": 0,
                                            "status_code": None, "error": None}
    published = events["adforge.product.published"]
    assert published.resource.id == f"adforge.product.{run_id}.{CLEAN_SKU}"
    assert [r["platform"] for r in published.payload["renditions"]] == ["blog_header"]
    held = events["adforge.product.needs-review"]
    assert held.resource.id == f"adforge.product.{run_id}.{CLUTTERED_SKU}"
    [waiting] = held.payload["waiting"]
    assert waiting["platform"] == "blog_header"
    assert "segment_confidence" in {gate["gate"] for gate in waiting["failing"]}
    flow_run = f"prefect.flow-run.{result_flow_run_id(adforge_env, run_id)}"
    for event in events.values():
        related = {r.id: r.role for r in event.related}
        assert flow_run in related  # shown on the flow run's page
        if event.event != "adforge.run.finished":
            assert related[f"adforge.run.{run_id}"] == "run"


def result_flow_run_id(env: Path, run_id: str) -> str:
    from tests.integration.campaign import rows

    [(flow_run_id,)] = rows(f"sqlite:///{env / 'state' / 'adforge.db'}",
                            f"select flow_run_id from runs where id = '{run_id}'")
    return str(flow_run_id)
