"""A chunked campaign's outcome, gathered from its chunk runs' rows in the tracking
database: a product a quality gate held waits for review; it has not failed."""

from __future__ import annotations

import uuid
from pathlib import Path

from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed, Failed

from adforge.db import repository as repo
from adforge.settings import Settings
from adforge.stagecache import database
from flows.brand_content import final_state
from flows.scale import aggregate


def _chunk_run(settings: Settings, name: str, state_name: str,
               statuses: dict[str, str]) -> FlowRun:
    """A finished chunk run, and its tracking run with each product's status."""
    state = Completed(name=state_name) if state_name != "Failed" else Failed()
    flow_run = FlowRun(id=uuid.uuid4(), name=name, flow_id=uuid.uuid4(), state=state)
    db = database(settings.database_url())
    run_id = f"run-{name}"
    repo.start_run(db, run_id=run_id, brief="brief.csv", brief_sha256=name, brand="b",
                   profile="classic", flow_run_id=str(flow_run.id))
    for sku, status in statuses.items():
        repo.upsert_product(db, run_id=run_id, sku=sku, name="", source_uri=f"{sku}.png")
        if status != "pending":
            repo.set_product_status(db, run_id, sku, status)
    return flow_run


def test_held_products_of_a_chunk_wait_for_review_and_the_campaign_is_partial(
        tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, out_dir=tmp_path / "outputs")
    first = _chunk_run(settings, "chunk-0", "Partial", {"A": "done", "B": "needs-review"})
    second = _chunk_run(settings, "chunk-1", "Completed", {"C": "done", "D": "pending"})

    outcome = aggregate(settings, [["A", "B"], ["C", "D"]], [first, second], {})

    assert outcome["status"] == "partial"
    assert outcome["counts"] == {"published": 2, "in_review": 1, "failed": 1}
    assert list(outcome["in_review"]) == ["B"] and "run-chunk-0" in outcome["in_review"]["B"]
    assert list(outcome["failed"]) == ["D"]
    assert [row["in_review"] for row in outcome["chunks"]] == [1, 0]
    state = final_state(outcome)
    assert state.name == "Partial" and "1 in review" in state.message


def test_a_campaign_whose_only_products_wait_for_review_is_partial_not_failed(
        tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, out_dir=tmp_path / "outputs")
    held = _chunk_run(settings, "chunk-0", "Partial", {"A": "needs-review"})

    outcome = aggregate(settings, [["A"]], [held], {})

    assert outcome["status"] == "partial" and outcome["failed"] == {}
    assert final_state(outcome).is_completed()
