"""The results webhook at the end of real campaign runs (Prefect harness), posting to a
real HTTP receiver in a thread: on S3 (moto) the document's presigned URLs open and
carry the listed bytes, and a 500 is retried; a receiver that stays down leaves the run
completed and the failure in its report, and `adforge deliver` sends the results again
once it is up."""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adforge_app.cli import app
from tests.integration.campaign import rows, write_campaign
from tests.integration.conftest import S3Env
from tests.webhook_receiver import Post, ResultsReceiver, closed_port_url, signature_is_valid

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

SECRET = "whsec-campaign-" + "y" * 16
KINDS = ("bottle", "jar")
PLATFORMS = ["instagram_post", "blog_thumbnail"]


@pytest.fixture
def receiver() -> Iterator[ResultsReceiver]:
    with ResultsReceiver() as server:
        yield server


@pytest.fixture
def webhook_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The results webhook's settings as a run reads them: the secret, quick retries."""
    monkeypatch.setenv("ADFORGE_DELIVERY__WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ADFORGE_DELIVERY__RETRIES", "1")
    monkeypatch.setenv("ADFORGE_DELIVERY__BACKOFF_S", "0.05")
    return monkeypatch


def _db(env: Path) -> str:
    return f"sqlite:///{env / 'state' / 'adforge.db'}"


def _attempts(env: Path, run_id: str) -> list[tuple]:
    return rows(_db(env), f"select attempt, status_code, ok from deliveries where run_id = "
                          f"'{run_id}' order by attempt")


def _assert_lists_every_rendition(post: Post, env: Path, run_id: str) -> None:
    """Every rendition row of the run is in the document, and its URL opens on exactly
    the bytes the document describes."""
    assert signature_is_valid(post, SECRET)
    document = post.document()
    assert (document["run_id"], document["status"]) == (run_id, "completed")
    recorded = {(sku, platform): uri for sku, platform, uri in rows(
        _db(env), f"select sku, platform, uri from renditions where run_id = '{run_id}'")}
    listed = {(p["sku"], r["platform"]): r for p in document["products"]
              for r in p["renditions"]}
    assert set(listed) == set(recorded) and len(listed) == len(KINDS) * len(PLATFORMS)
    assert document["counts"]["renditions"] == len(listed)
    for key, entry in listed.items():
        assert entry["uri"] == recorded[key]
        with urllib.request.urlopen(entry["url"], timeout=10) as opened:
            data = opened.read()
        assert entry["bytes"] == len(data) > 0
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["format"] == Path(entry["uri"]).suffix.lstrip(".")
        assert entry["backends"]["text"]["backend"] == "typeset"


def test_a_run_on_s3_posts_its_signed_results_and_a_500_is_retried(
        adforge_env: Path, s3_env: S3Env, webhook_env: pytest.MonkeyPatch,
        receiver: ResultsReceiver) -> None:
    from flows.brand_content import brand_content

    receiver.answers = [(500, 0.0)]
    webhook_env.setenv("ADFORGE_DELIVERY__WEBHOOK_URL", receiver.url)
    brief, brand = write_campaign(adforge_env / "in", KINDS)

    result = brand_content(brief=str(brief), brand=str(brand), store=s3_env.store,
                           platforms=PLATFORMS)

    assert result["status"] == "completed"
    assert result["delivery"] == {"status": "delivered", "attempts": 2, "status_code": 200,
                                  "error": None}
    refused, accepted = receiver.posts
    assert refused.body == accepted.body
    _assert_lists_every_rendition(accepted, adforge_env, result["run_id"])
    assert all("X-Amz-Signature=" in r["url"] for p in accepted.document()["products"]
               for r in p["renditions"])  # presigned links to the S3 objects
    assert _attempts(adforge_env, result["run_id"]) == [(1, 500, 0), (2, 200, 1)]
    assert "Results delivered to" in Path(result["report"]).read_text(encoding="utf-8")


def test_a_receiver_that_stays_down_leaves_the_run_completed_and_the_failure_reported(
        adforge_env: Path, webhook_env: pytest.MonkeyPatch,
        receiver: ResultsReceiver) -> None:
    from flows.brand_content import brand_content

    webhook_env.setenv("ADFORGE_DELIVERY__WEBHOOK_URL", closed_port_url())
    brief, brand = write_campaign(adforge_env / "in", KINDS)

    result = brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS)

    run_id = result["run_id"]
    assert result["status"] == "completed"
    assert (result["delivery"]["status"], result["delivery"]["attempts"]) == ("failed", 2)
    assert rows(_db(adforge_env), f"select status from runs where id = '{run_id}'") == [
        ("completed",)]
    assert _attempts(adforge_env, run_id) == [(1, None, 0), (2, None, 0)]
    report = Path(result["report"])
    page = report.read_text(encoding="utf-8")
    assert "Delivery failed" in page and f"adforge deliver {run_id}" in page
    # the receiver is up again: `adforge deliver` posts the results, the report says so
    webhook_env.setenv("ADFORGE_DELIVERY__WEBHOOK_URL", receiver.url)
    done = CliRunner().invoke(app, ["deliver", run_id])
    assert done.exit_code == 0, done.output
    [post] = receiver.posts
    _assert_lists_every_rendition(post, adforge_env, run_id)  # file:// URLs that open
    assert _attempts(adforge_env, run_id)[-1] == (3, 200, 1)
    page = report.read_text(encoding="utf-8")
    assert "Results delivered to" in page and "Delivery failed" not in page
