"""The deployments of prefect.yaml on a real Prefect server with real process workers."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image

from adforge.specs import PRESETS
from tests.service.conftest import Service, approve_if_held, write_campaign

pytestmark = pytest.mark.slow


def test_manual_run_through_the_api_leaves_files_and_rows(
        prefect_service: Service, manual_run: dict) -> None:
    assert manual_run["state_type"] == "COMPLETED", manual_run["state"]
    outputs = prefect_service.root / "outputs"
    header = next(outputs.glob("*/HB-BOTTLE-01/blog_header.jpg"))
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
    for stage in ("segment", "background", "composite", "layout", "text"):
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


def test_renditions_of_a_classic_run_are_made_on_the_cpu_pool(
        prefect_service: Service, manual_run: dict) -> None:
    """A classic run's canvases need no model: `renditions/instagram` makes them with the
    run's own profile where it runs, on the CPU pool, and hands nothing over."""
    run_id = prefect_service.tracking_run_id(manual_run["id"])
    events_before = prefect_service.count("model_events")
    finished = _renditions(prefect_service, {"run_id": run_id})

    assert finished["work_pool_name"] == "adforge-cpu"
    assert prefect_service.api.subflow_runs(finished["id"]) == []
    for platform in ("instagram_post", "instagram_portrait", "instagram_story"):
        assert _made_by(prefect_service, run_id, platform)["layout"] == {"backend": "classic"}
        _assert_delivered(prefect_service, run_id, "HB-BOTTLE-01", platform)
    assert prefect_service.count("model_events") == events_before


def test_renditions_of_a_tiny_run_are_made_with_its_models_on_the_gpu_pool(
        prefect_service: Service, tiny_run: str) -> None:
    """With the run's own profile, a neural run's new canvas goes through its models: the
    CPU-pool run hands the same parameters to `renditions/gpu` and waits for it."""
    last_event = _last_model_event(prefect_service)
    finished = _renditions(prefect_service, {"platforms": ["instagram_story"],
                                             "run_id": tiny_run})

    assert finished["work_pool_name"] == "adforge-cpu"
    [gpu_run] = prefect_service.api.subflow_runs(finished["id"])
    assert gpu_run["work_pool_name"] == "adforge-gpu"
    assert gpu_run["state_type"] == "COMPLETED", gpu_run["state"]
    assert gpu_run["parameters"]["platforms"] == ["instagram_story"]
    approve_if_held(prefect_service, tiny_run, "TINY-0", "instagram_story")
    made_by = _made_by(prefect_service, tiny_run, "instagram_story")
    assert made_by["segment"] == {"backend": "classic"}  # the run's repair of BiRefNet's
    assert made_by["background"]["backend"] == "flux"
    assert (made_by["background"]["width"], made_by["background"]["height"]) == (1080, 1920)
    _assert_model_or_fallback(made_by["layout"], "qwen2-vl", "classic")
    _assert_model_or_fallback(made_by["text"], "edit", "typeset")
    _assert_delivered(prefect_service, tiny_run, "TINY-0", "instagram_story")
    assert _loads_since(prefect_service, last_event, tiny_run) == {
        "tiny-flux": 1, "tiny-qwen2vl": 1, "tiny-qwen-image-edit-2509": 1}


def test_recomposing_a_tiny_run_loads_no_model_on_the_cpu_pool(
        prefect_service: Service, tiny_run: str) -> None:
    """`mode=recompose`: the nearest stored backdrop cover-fitted, the classic layout,
    typesetting; no model, so the CPU-pool run makes the canvas itself."""
    events_before = prefect_service.count("model_events")
    finished = _renditions(prefect_service, {"platforms": ["instagram_portrait"],
                                             "run_id": tiny_run, "mode": "recompose"})

    assert finished["work_pool_name"] == "adforge-cpu"
    assert prefect_service.api.subflow_runs(finished["id"]) == []
    approve_if_held(prefect_service, tiny_run, "TINY-0", "instagram_portrait")
    made_by = _made_by(prefect_service, tiny_run, "instagram_portrait")
    assert made_by["background"]["backend"] == "recompose"
    assert made_by["layout"] == {"backend": "classic"}
    assert made_by["text"] == {"backend": "typeset"}
    _assert_delivered(prefect_service, tiny_run, "TINY-0", "instagram_portrait")
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
    assert list((prefect_service.root / "outputs").glob("*/HB-HONEY-03/blog_thumbnail.jpg"))


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


def _renditions(prefect_service: Service, parameters: dict) -> dict:
    """A run of `renditions/instagram` with these parameters, waited for and completed."""
    response = prefect_service.api.create_run("renditions/instagram", parameters)
    assert response.status_code == 201, response.text
    finished = prefect_service.api.wait(response.json()["id"], timeout_s=600)
    assert finished["state_type"] == "COMPLETED", finished["state"]
    return finished


def _made_by(prefect_service: Service, run_id: str, platform: str) -> dict:
    """The backends recorded with the run's one rendition for `platform`."""
    with prefect_service.db.connect() as conn:
        [backends] = conn.execute(sa.text(
            "select backends from renditions where run_id = :run and platform = :platform"),
            {"run": run_id, "platform": platform}).scalars().all()
    return json.loads(backends)


def _assert_delivered(prefect_service: Service, run_id: str, sku: str, platform: str) -> None:
    path = prefect_service.root / "outputs" / run_id / sku / f"{platform}.jpg"
    with Image.open(path) as image:
        assert image.size == (PRESETS[platform].width, PRESETS[platform].height)


def _assert_model_or_fallback(part: dict, model: str, fallback: str) -> None:
    """The part was made by the model, or by the fallback with its reason recorded."""
    if part["backend"] == model:
        assert "fallback_from" not in part, part
    else:
        assert part["backend"] == fallback and part["reason"], part


def _last_model_event(prefect_service: Service) -> int:
    with prefect_service.db.connect() as conn:
        return conn.execute(sa.text("select coalesce(max(id), 0) from model_events")
                            ).scalar_one()


def _loads_since(prefect_service: Service, event_id: int, run_id: str) -> dict[str, int]:
    """The run's model loads recorded after event `event_id`, by checkpoint folder."""
    with prefect_service.db.connect() as conn:
        rows = conn.execute(sa.text(
            "select model, count(*) from model_events where id > :id and run_id = :run "
            "and action = 'load' group by model"), {"id": event_id, "run": run_id}).all()
    return {Path(model).name: count for model, count in rows}
