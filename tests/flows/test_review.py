"""The review queue end to end under a real Prefect harness: a cluttered photo whose
cutout is unsure is held, not delivered; `adforge review` lists it, `approve` publishes
it exactly once, `reject` keeps the reason; the run's Prefect state and `adforge run`'s
exit code say how it ended; Slack is told the counts; `review: manual` pauses the run
until its resume form is answered (or times out, leaving the items in the queue)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from adforge.brief import write_brief
from adforge.demo import DEMO_COPY
from adforge_app.cli import app
from tests.integration.campaign import cli_process, duplicate_rows, prefect_api_url
from tests.review_inputs import CLEAN_SKU, CLUTTERED_SKU, write_review_campaign
from tests.service.conftest import WebhookRecorder
from tests.task_runs import paused_flow_run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PLATFORMS = ["instagram_post", "blog_header"]


def _db(env: Path) -> str:
    return f"sqlite:///{env / 'state' / 'adforge.db'}"


def _rows(env: Path, query: str, **params: object) -> list[tuple]:
    engine = sa.create_engine(_db(env))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(query), params)]
    finally:
        engine.dispose()


def _cli(*args: str) -> tuple[int, str]:
    """An `adforge` command that starts no flow, in this process."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _run_cli(env: Path, brief: Path, brand: Path) -> tuple[int, str, str]:
    """`adforge run` in its own process against the harness's server (a process's exit
    code, and Prefect's console logging bound to its own output); (exit code, output,
    the tracking run's id)."""
    log = env / f"run-{brief.parent.name}.log"
    process = cli_process(["run", str(brief), "--brand", str(brand),
                           "--platforms", ",".join(PLATFORMS)], prefect_api_url(), log)
    code = process.wait(timeout=300)
    [(run_id,)] = _rows(env, "select id from runs order by started_at desc limit 1")
    return code, log.read_text(encoding="utf-8"), run_id


@pytest.fixture()
def env(adforge_env: Path) -> Path:
    return adforge_env


def _prefect_state(env: Path, run_id: str) -> tuple[str, str]:
    """(state name, state type) of the flow run that made tracking run `run_id`."""
    from prefect.client.orchestration import get_client

    [(flow_run_id,)] = _rows(env, "select flow_run_id from runs where id = :id", id=run_id)
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    return state.name, state.type.value


def _assert_held_not_delivered(env: Path, run_id: str, output: str) -> Path:
    """The unsure product waits in the review folder, the clean one is delivered; the
    run's folder."""
    assert f"in review {CLUTTERED_SKU}" in output and "segment_confidence" in output
    assert _prefect_state(env, run_id) == ("Partial", "COMPLETED")
    run_dir = env / "outputs" / run_id
    assert sorted(p.name for p in (run_dir / CLEAN_SKU).glob("*.jpg")) == [
        "blog_header.jpg", "instagram_post.jpg"]
    assert not (run_dir / CLUTTERED_SKU).exists()
    for platform in PLATFORMS:
        assert (run_dir / "review" / CLUTTERED_SKU / f"{platform}.jpg").is_file()
    assert _rows(env, "select status from products where sku = :sku", sku=CLUTTERED_SKU) == [
        ("needs-review",)]
    assert _rows(env, "select count(*) from renditions where sku = :sku",
                 sku=CLUTTERED_SKU) == [(0,)]
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert report.index("Needs review") < report.index('alt="contact sheet"')  # first
    assert report.index("Needs review") < report.index(CLEAN_SKU)
    assert f"review/{CLUTTERED_SKU}/instagram_post.jpg" in report
    return run_dir


def test_an_unsure_cutout_waits_for_review_and_approve_publishes_it_once(env: Path) -> None:
    brief, brand = write_review_campaign(env / "in")
    code, output, run_id = _run_cli(env, brief, brand)

    # 1. Held, not delivered: exit 3, the run Partial, files only in the review folder
    assert code == 3, output
    run_dir = _assert_held_not_delivered(env, run_id, output)

    # 2. `adforge review --json` lists both canvases with the failing gate
    code, listed = _cli("review", "--json")
    assert code == 0, listed
    items = json.loads(listed)["items"]
    assert {(i["sku"], i["platform"]) for i in items} == {(CLUTTERED_SKU, p) for p in PLATFORMS}
    assert all(i["failing"][0]["gate"] == "segment_confidence" for i in items)
    assert all(i["failing"][0]["value"] < i["failing"][0]["threshold"] for i in items)

    # 3. Approve one canvas: published as a passing one; again: nothing twice
    code, output = _cli("approve", run_id, CLUTTERED_SKU, "--platform", "instagram_post",
                        "--by", "ana")
    assert code == 0, output
    assert (run_dir / CLUTTERED_SKU / "instagram_post.jpg").is_file()
    assert (run_dir / CLUTTERED_SKU / "cutout.png").is_file()
    assert not (run_dir / "review" / CLUTTERED_SKU / "instagram_post.jpg").exists()
    rows_before = _rows(env, "select count(*) from renditions")
    code, output = _cli("approve", run_id, CLUTTERED_SKU, "--platform", "instagram_post")
    assert code == 0 and "already approved" in output, output
    assert _rows(env, "select count(*) from renditions") == rows_before
    assert duplicate_rows(_db(env)) == 0
    [(uri, backends)] = _rows(env, "select uri, backends from renditions where sku = :sku",
                              sku=CLUTTERED_SKU)
    assert uri == str((run_dir / CLUTTERED_SKU / "instagram_post.jpg").resolve())

    # 4. Reject the other with a reason; the decisions are kept, the run settles
    code, output = _cli("reject", run_id, CLUTTERED_SKU, "--platform", "blog_header",
                        "--reason", "clutter in the cutout")
    assert code == 0, output
    decided = _rows(env, "select platform, status, decided_by, reason, decided_at is not null "
                         "from reviews order by platform")
    assert decided[0][:4] == ("blog_header", "rejected", decided[0][2], "clutter in the cutout")
    assert decided[0][2] and decided[0][4]  # the OS user, a time
    assert decided[1][:3] == ("instagram_post", "approved", "ana")
    code, listed = _cli("review", run_id, "--json")
    assert json.loads(listed)["items"] == []
    assert _rows(env, "select status from runs where id = :id", id=run_id) == [("completed",)]
    code, output = _cli("approve", run_id, CLUTTERED_SKU, "--platform", "blog_header")
    assert code == 2 and "rejected" in output, output


def _plain_photo_brief(folder: Path) -> tuple[Path, Path]:
    """A brief whose only photo is an empty backdrop: segmentation finds no product."""
    brief, brand = write_review_campaign(folder)
    Image.fromarray(np.full((384, 384, 3), 214, np.uint8)).save(folder / "photos" / "blank.png")
    write_brief([{**DEMO_COPY["jar"], "image": "photos/blank.png"}], brief)
    return brief, brand


def test_state_names_and_exit_codes_say_how_the_run_ended(env: Path) -> None:
    """(Partial and exit 3: the review test above.)"""
    # every product published: Completed, exit 0
    clean, brand = write_review_campaign(env / "clean")
    write_brief([{**DEMO_COPY["bottle"], "image": "photos/bottle.png"}], clean)
    code, output, run_id = _run_cli(env, clean, brand)
    assert code == 0, output
    assert _prefect_state(env, run_id) == ("Completed", "COMPLETED")
    # no product published, none waiting: Failed, exit 1
    blank, brand = _plain_photo_brief(env / "blank")
    code, output, run_id = _run_cli(env, blank, brand)
    assert code == 1, output
    assert _prefect_state(env, run_id) == ("Failed", "FAILED")
    assert _rows(env, "select status from runs where id = :id", id=run_id) == [("failed",)]
    # a direct call of the flow: the state carries the summary, whatever it is
    from flows.brand_content import brand_content, outcome_of

    state = brand_content(brief=str(blank), brand=str(brand), return_state=True)
    assert state.is_failed() and "0 published, 0 in review, 1 failed" in state.message
    assert outcome_of(state)["counts"] == {"published": 0, "in_review": 0, "failed": 1}


def test_slack_hears_when_a_run_starts_and_how_it_ended(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.brand_content import brand_content

    recorder = WebhookRecorder()
    monkeypatch.setenv("ADFORGE_NOTIFICATIONS__SLACK_WEBHOOK_URL", recorder.url)
    monkeypatch.setenv("ADFORGE_NOTIFICATIONS__ON_START", "true")
    try:
        brief, brand = write_review_campaign(env / "in")
        state = brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS,
                              return_state=True)
        run_id = state.result()["run_id"]
        assert recorder.wait_for("started", str(brief))
        assert recorder.wait_for(": Partial", run_id, "1 published, 1 in review, 0 failed",
                                 f"{CLUTTERED_SKU} instagram_post, blog_header: "
                                 "segment_confidence", "report: ")
    finally:
        recorder.server.shutdown()


# --- review: manual ---------------------------------------------------------------------


def test_manual_review_pauses_and_the_resumed_decisions_apply(env: Path) -> None:
    from prefect.flow_runs import resume_flow_run

    from flows.brand_content import brand_content

    brief, brand = write_review_campaign(env / "in")
    finished: dict[str, object] = {}
    worker = threading.Thread(target=lambda: finished.update(state=brand_content(
        brief=str(brief), brand=str(brand), platforms=PLATFORMS, review="manual",
        return_state=True)))
    worker.start()
    try:
        flow_run_id = paused_flow_run()
        assert _rows(env, "select count(*) from reviews where status = 'pending'") == [(2,)]
        resume_flow_run(flow_run_id, run_input={"reviewer": "ana", "decisions": [
            {"sku": CLUTTERED_SKU, "platform": "instagram_post", "decision": "approve"},
            {"sku": CLUTTERED_SKU, "platform": "blog_header", "decision": "reject",
             "reason": "the cutout kept the clutter"}]})
    finally:
        worker.join(timeout=180)
    state = finished["state"]
    assert state.name == "Completed", state.message  # every product published
    run_id = state.result()["run_id"]
    run_dir = env / "outputs" / run_id
    assert (run_dir / CLUTTERED_SKU / "instagram_post.jpg").is_file()
    assert not (run_dir / CLUTTERED_SKU / "blog_header.jpg").exists()
    assert _rows(env, "select platform, status, decided_by, reason from reviews "
                      "order by platform") == [
        ("blog_header", "rejected", "ana", "the cutout kept the clutter"),
        ("instagram_post", "approved", "ana", None)]
    assert duplicate_rows(_db(env)) == 0


def test_an_unanswered_review_leaves_the_items_in_the_queue(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.brand_content import brand_content

    monkeypatch.setenv("ADFORGE_QUALITY__REVIEW_TIMEOUT_S", "2")
    brief, brand = write_review_campaign(env / "in")
    state = brand_content(brief=str(brief), brand=str(brand), platforms=["instagram_post"],
                          review="manual", return_state=True)

    assert state.name == "Partial" and "1 in review" in state.message
    assert _rows(env, "select status from reviews") == [("pending",)]
    code, listed = _cli("review", "--json")
    assert [i["sku"] for i in json.loads(listed)["items"]] == [CLUTTERED_SKU]


def test_renditions_add_canvases_to_a_product_that_waits_for_review(env: Path) -> None:
    """The renditions flow serves every product the run finished, a held one too: its
    new canvas is judged as the others were, and the product keeps waiting while one of
    its canvases does (the new one here, its cutout still unsure)."""
    from flows.brand_content import brand_content
    from flows.renditions import renditions

    brief, brand = write_review_campaign(env / "in")
    first = brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS,
                          return_state=True).result(raise_on_failure=False)
    assert CLUTTERED_SKU in first["in_review"], first

    added = renditions(platforms=["twitter_card"], run_id=first["run_id"])

    assert added["products"] == 2  # the clean product and the held one
    assert CLEAN_SKU in added["uris"] and "twitter_card" in added["uris"][CLEAN_SKU]
    held = _rows(env, "select platform from reviews where sku = :sku and status = 'pending'",
                 sku=CLUTTERED_SKU)
    assert sorted(platform for (platform,) in held) == sorted([*PLATFORMS, "twitter_card"])
    assert _rows(env, "select status from products where sku = :sku",
                 sku=CLUTTERED_SKU) == [("needs-review",)]
    assert _rows(env, "select status from runs where id = :id",
                 id=first["run_id"]) == [("partial",)]
