"""The deployments of prefect.yaml on a real Prefect server with real process workers."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from adforge.specs import PRESETS
from tests.service.conftest import Service, write_campaign

pytestmark = pytest.mark.slow


def test_manual_run_through_the_api_leaves_files_and_rows(
        prefect_service: Service, manual_run: dict) -> None:
    assert manual_run["state_type"] == "COMPLETED", manual_run["state"]
    outputs = prefect_service.root / "outputs"
    header = next(outputs.glob("*/HB-BOTTLE-01/blog_header.png"))
    with Image.open(header) as image:
        assert image.size == (PRESETS["blog_header"].width, PRESETS["blog_header"].height)
    assert prefect_service.count(
        "runs", f"flow_run_id = '{manual_run['id']}' and status = 'completed'") == 1
    assert prefect_service.count("renditions", "platform = 'blog_header'") >= 1
    keys = {a["key"] for a in prefect_service.api.artifacts(manual_run["id"])}
    assert {"campaign-summary", "campaign-stages", "contact-sheet",
            "campaign-progress"} <= keys


def test_summary_artifact_lists_platforms_and_stage_seconds(
        prefect_service: Service, manual_run: dict) -> None:
    artifacts = {a["key"]: a for a in prefect_service.api.artifacts(manual_run["id"])}
    assert "blog_header" in str(artifacts["campaign-summary"]["data"])
    stages = str(artifacts["campaign-stages"]["data"])
    for stage in ("cutout", "background", "composite", "layout", "text", "renditions"):
        assert stage in stages
    assert artifacts["contact-sheet"]["data"].startswith("data:image/jpeg;base64,")


def test_invalid_parameters_are_refused_naming_the_field(prefect_service: Service) -> None:
    response = prefect_service.api.create_run("brand-content/manual", {"request": {
        "brief_uri": "/nowhere/brief.csv", "platforms": ["myspace_banner"]}})
    assert response.status_code == 409
    assert "request.platforms" in response.text and "myspace_banner" in response.text

    response = prefect_service.api.create_run("brand-content/manual", {"request": {
        "brief_uri": "/nowhere/brief.csv", "profile": "quantum"}})
    assert response.status_code == 409
    assert "request.profile" in response.text


def test_completion_and_failure_are_posted_to_the_webhook(
        prefect_service: Service, manual_run: dict) -> None:
    assert prefect_service.webhook.wait_for(manual_run["name"], "Completed")
    response = prefect_service.api.create_run("brand-content/manual", {"request": {
        "brief_uri": str(prefect_service.root / "missing" / "brief.csv")}})
    failed = prefect_service.api.wait(response.json()["id"])
    assert failed["state_type"] == "FAILED"
    assert prefect_service.webhook.wait_for(failed["name"], "Failed")


def test_renditions_deployment_recomposes_without_models(
        prefect_service: Service, manual_run: dict) -> None:
    run_id = _tracking_run_id(prefect_service, manual_run["id"])
    events_before = prefect_service.count("model_events")
    response = prefect_service.api.create_run("renditions/instagram", {"run_id": run_id})
    assert response.status_code == 201, response.text
    finished = prefect_service.api.wait(response.json()["id"])

    assert finished["state_type"] == "COMPLETED", finished["state"]
    assert finished["work_pool_name"] == "adforge-cpu"
    for platform in ("instagram_post", "instagram_portrait", "instagram_story"):
        assert prefect_service.count(
            "renditions", f"run_id = '{run_id}' and platform = '{platform}'") == 1
        path = prefect_service.root / "outputs" / run_id / "HB-BOTTLE-01" / f"{platform}.png"
        with Image.open(path) as image:
            assert image.size == (PRESETS[platform].width, PRESETS[platform].height)
    assert prefect_service.count("model_events") == events_before


def test_a_schedule_due_within_a_minute_creates_and_completes_a_run(
        prefect_service: Service) -> None:
    brief, brand = write_campaign(prefect_service.root / "scheduled", ("jar",))
    deployment = prefect_service.api.deployment("brand-content/scheduled")
    assert deployment["schedules"][0]["schedule"] == {
        "cron": "0 9 * * *", "timezone": "Asia/Seoul", "day_or": True}
    due = _next_minute_in_seoul(at_least_s=20)
    schedule_id = prefect_service.api.add_schedule(
        deployment["id"], {"cron": f"{due.minute} {due.hour} * * *", "timezone": "Asia/Seoul"},
        {"brief": str(brief), "brand": str(brand), "platforms": ["blog_thumbnail"]})
    try:
        run = _first_run_at(prefect_service, deployment["id"], due)
        finished = prefect_service.api.wait(run["id"], timeout_s=240)
    finally:
        prefect_service.api.remove_schedule(deployment["id"], schedule_id)
    assert finished["state_type"] == "COMPLETED", finished["state"]
    assert prefect_service.count(
        "runs", f"flow_run_id = '{run['id']}' and status = 'completed'") == 1
    assert list((prefect_service.root / "outputs").glob("*/HB-HONEY-03/blog_thumbnail.png"))


def _next_minute_in_seoul(at_least_s: int) -> dt.datetime:
    now = dt.datetime.now(ZoneInfo("Asia/Seoul"))
    due = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return due if (due - now).total_seconds() >= at_least_s else due + dt.timedelta(minutes=1)


def _first_run_at(prefect_service: Service, deployment_id: str, due: dt.datetime) -> dict:
    """The run the scheduler made for `due` (polls; a missing run fails the test)."""
    for _ in range(180):
        for run in prefect_service.api.runs_of(deployment_id):
            expected = dt.datetime.fromisoformat(run["expected_start_time"])
            if expected == due:
                return run
        time.sleep(1)
    raise AssertionError(f"the scheduler made no run for {due.isoformat()}")


def _tracking_run_id(prefect_service: Service, flow_run_id: str) -> str:
    import sqlalchemy as sa

    with prefect_service.db.connect() as conn:
        return conn.execute(sa.text("select id from runs where flow_run_id = :id"),
                            {"id": flow_run_id}).scalar_one()
