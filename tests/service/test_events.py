"""AdForge's Prefect events on the real service (`adforge server up`, its workers): a
campaign started through the manual deployment emits them to the server, where they read
back through the API, and the README's example automation, created as the README shows
it, starts `renditions/blog` for the run that finished."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import Service, write_campaign

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
BLOG_PLATFORMS = {"blog_header", "blog_thumbnail"}


def readme_automation() -> dict:
    """The README's example automation (the JSON block that runs a deployment when a run
    finishes)."""
    blocks = re.findall(r"```json\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    [automation] = [b for b in blocks if "adforge.run.finished" in b and "run-deployment" in b]
    return json.loads(automation)


@pytest.fixture
def automation(prefect_service: Service) -> Iterator[tuple[str, Path, Path]]:
    """The README's automation for this test's own brief (so that no other test's run
    triggers it), created through the API and deleted afterwards; (blog deployment id,
    brief, brand kit)."""
    brief, brand = write_campaign(prefect_service.root / "automation", ("bottle",))
    blog = prefect_service.api.deployment("renditions/blog")["id"]
    document = readme_automation()
    document["trigger"]["match"]["adforge.brief"] = str(brief)
    document["actions"][0]["deployment_id"] = blog
    created = prefect_service.api.http.post("/automations/", json=document)
    assert created.status_code == 201, created.text
    try:
        yield blog, brief, brand
    finally:
        prefect_service.api.http.delete(f"/automations/{created.json()['id']}")


def _events_of(prefect_service: Service, run_id: str, timeout_s: float = 60) -> dict[str, dict]:
    """The run's events by name, read through POST /events/filter once its
    `adforge.run.finished` is stored (a missing one fails the test)."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = prefect_service.api.http.post("/events/filter", json={"filter": {
            "event": {"prefix": ["adforge."]},
            "any_resource": {"id_prefix": [f"adforge.run.{run_id}"]}}, "limit": 50})
        response.raise_for_status()
        events = {e["event"]: e for e in response.json()["events"]}
        if "adforge.run.finished" in events:
            return events
        assert time.monotonic() < deadline, f"no adforge.run.finished for run {run_id}"
        time.sleep(1)


def _triggered_run(prefect_service: Service, deployment_id: str, run_id: str,
                   timeout_s: float = 120) -> dict:
    """The flow run of `deployment_id` that the automation created for `run_id`."""
    deadline = time.monotonic() + timeout_s
    while True:
        for flow_run in prefect_service.api.runs_of(deployment_id):
            if flow_run["parameters"].get("run_id") == run_id:
                return flow_run
        assert time.monotonic() < deadline, f"the automation started no run for {run_id}"
        time.sleep(1)


def test_a_finished_run_emits_events_and_the_readme_automation_acts_on_them(
        prefect_service: Service, automation: tuple[str, Path, Path]) -> None:
    blog, brief, brand = automation
    response = prefect_service.api.create_run("brand-content/manual", {"request": {
        "brief_uri": str(brief), "brand_kit": str(brand), "platforms": ["instagram_post"],
        "profile": "classic"}})
    assert response.status_code == 201, response.text
    finished = prefect_service.api.wait(response.json()["id"])
    assert finished["state_type"] == "COMPLETED", finished["state"]
    run_id = prefect_service.tracking_run_id(finished["id"])

    # 1. The events, through the API: the product, then the run with its outcome
    events = _events_of(prefect_service, run_id)
    assert set(events) == {"adforge.product.published", "adforge.run.finished"}
    ended = events["adforge.run.finished"]
    assert ended["resource"]["prefect.resource.id"] == f"adforge.run.{run_id}"
    assert ended["resource"]["adforge.status"] == "completed"
    assert ended["payload"]["counts"] == {"published": 1, "in_review": 0, "failed": 0}
    assert f"prefect.flow-run.{finished['id']}" in {
        r["prefect.resource.id"] for r in ended["related"]}
    product = events["adforge.product.published"]
    assert product["resource"]["prefect.resource.id"] == f"adforge.product.{run_id}.HB-BOTTLE-01"
    # 2. The automation ran renditions/blog for this run: its blog canvases, no model
    triggered = _triggered_run(prefect_service, blog, run_id)
    assert triggered["parameters"]["mode"] == "recompose"
    done = prefect_service.api.wait(triggered["id"], timeout_s=300)
    assert done["state_type"] == "COMPLETED", done["state"]
    with prefect_service.db.connect() as connection:
        platforms = {p for p, in connection.exec_driver_sql(
            f"select platform from renditions where run_id = '{run_id}'")}
    assert platforms == {"instagram_post"} | BLOG_PLATFORMS
