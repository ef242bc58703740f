"""`review: manual` on a real Prefect server: the campaign pauses with its held canvas,
the resume form is visible in headless Chromium, resuming through the API with the
decision publishes the approved canvas, and Slack hears the counts."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_OUTPUT
from tests.review_inputs import CLUTTERED_SKU, write_review_campaign
from tests.service import browser
from tests.service.conftest import Service
from tests.service.devtools import resume_dialog

pytestmark = pytest.mark.slow


def _wait_for_state(service: Service, flow_run_id: str, name: str,
                    timeout_s: float = 300) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        run = service.api.flow_run(flow_run_id)
        if run["state_name"] == name:
            return run
        assert run["state_type"] not in ("COMPLETED", "FAILED", "CRASHED"), run["state"]
        assert time.monotonic() < deadline, f"run {run['name']} still {run['state_name']}"
        time.sleep(1)


def _show_resume_form(service: Service, flow_run_id: str) -> str:
    """The paused run's page, its Resume dialog opened: the form's text (screenshot
    in test-output/)."""
    with resume_dialog(service.ui_url, flow_run_id) as page:
        text = page.wait_for_text("Reviewer", CLUTTERED_SKU)
        page.screenshot(TEST_OUTPUT / "ui_review_resume_form.png")
    return text


def test_a_manual_review_pauses_and_the_api_resume_publishes_the_approved_canvas(
        prefect_service: Service) -> None:
    brief, brand = write_review_campaign(prefect_service.root / "review")
    response = prefect_service.api.create_run("brand-content/manual", {"request": {
        "brief_uri": str(brief), "brand_kit": str(brand), "platforms": ["instagram_post"],
        "profile": "classic", "review": "manual"}})
    assert response.status_code == 201, response.text
    flow_run_id = response.json()["id"]

    # 1. Paused for review, the held canvas on its page and in its resume form
    paused = _wait_for_state(prefect_service, flow_run_id, "Paused")
    keys = {a["key"] for a in prefect_service.api.artifacts(flow_run_id)}
    assert {"review-sheet", "review-items"} <= keys
    if browser.chromium() is not None:
        form = _show_resume_form(prefect_service, flow_run_id)
        assert "segment_confidence" in form and "Decision" in form
    run_id = prefect_service.tracking_run_id(flow_run_id)
    assert not list((prefect_service.root / "outputs" / run_id).glob(f"{CLUTTERED_SKU}/*.jpg"))

    # 2. Resumed through the API with the decision: the canvas is published
    resumed = prefect_service.api.http.post(f"/flow_runs/{flow_run_id}/resume", json={
        "run_input": {"reviewer": "ana", "decisions": [
            {"sku": CLUTTERED_SKU, "platform": "instagram_post", "decision": "approve",
             "reason": "the clutter reads as props"}]}})
    assert resumed.status_code in (200, 201), resumed.text
    assert resumed.json()["status"] == "ACCEPT", resumed.text
    finished = prefect_service.api.wait(flow_run_id, timeout_s=300)
    assert (finished["state_type"], finished["state_name"]) == ("COMPLETED", "Completed")
    assert (prefect_service.root / "outputs" / run_id / CLUTTERED_SKU /
            "instagram_post.jpg").is_file()
    with prefect_service.db.connect() as conn:
        decided = conn.execute(sa.text(
            "select status, decided_by, reason from reviews where run_id = :run"),
            {"run": run_id}).all()
    assert [tuple(row) for row in decided] == [("approved", "ana",
                                                "the clutter reads as props")]
    assert prefect_service.count("renditions", f"run_id = '{run_id}'") == 2
    assert prefect_service.webhook.wait_for(paused["name"], "Completed",
                                            "2 published, 0 in review, 0 failed", run_id)
