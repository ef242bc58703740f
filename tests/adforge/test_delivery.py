"""The results webhook's core against a real local HTTP receiver (no Prefect): the
document, the signature, retries (5xx and timeouts, never a 4xx), the recorded attempts,
the report's line, the settings, and `adforge deliver`."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from adforge import delivery
from adforge.db import Database, open_database
from adforge.db import repository as repo
from adforge.errors import SettingsError
from adforge.report import render_html
from adforge.settings import DeliverySettings, load_settings
from adforge.storage import open_store
from adforge_app.cli import app
from tests.webhook_receiver import ResultsReceiver, closed_port_url, signature_is_valid

SECRET = "whsec-test-" + "x" * 16
RUN = "run-1"
FILES = {("HB-BOTTLE-01", "instagram_post"): "jpg", ("HB-BOTTLE-01", "blog_header"): "webp",
         ("HB-JAR-02", "instagram_post"): "png"}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'adforge.db'}")
    yield database
    database.close()


@pytest.fixture
def receiver() -> Iterator[ResultsReceiver]:
    with ResultsReceiver() as server:
        yield server


@pytest.fixture
def finished_run(db: Database, tmp_path: Path) -> str:
    """A finished run with three delivered files (JPEG, WebP, PNG), one product held."""
    repo.start_run(db, run_id=RUN, brief="briefs/spring.csv", brief_sha256="f" * 64,
                   brand="acme", profile="classic")
    for sku in ("HB-BOTTLE-01", "HB-JAR-02", "HB-MUG-03"):
        repo.upsert_product(db, run_id=RUN, sku=sku, name=sku.lower(), source_uri="p.png")
    for (sku, platform), ext in FILES.items():
        path = tmp_path / "outputs" / RUN / sku / f"{platform}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.full((40, 60, 3), (200, 40, 90), np.uint8)
        Image.fromarray(pixels).save(path, format={"jpg": "JPEG"}.get(ext, ext.upper()))
        repo.record_rendition(db, run_id=RUN, sku=sku, platform=platform, width=60,
                              height=40, uri=str(path.resolve()), asset_key=f"text/{sku}",
                              backends={"text": {"backend": "typeset"}})
    repo.set_product_status(db, RUN, "HB-BOTTLE-01", "done")
    repo.set_product_status(db, RUN, "HB-JAR-02", "done")
    repo.set_product_status(db, RUN, "HB-MUG-03", "needs-review")
    repo.finish_run(db, RUN, "partial", n_products=3, n_failed=0)
    return RUN


def settings(url: str, **fields: object) -> DeliverySettings:
    return DeliverySettings.model_validate({"webhook_url": url, "webhook_secret": SECRET,
                                            "timeout_s": 2, "retries": 2,
                                            "backoff_s": 0.01} | fields)


def send(db: Database, tmp_path: Path, config: DeliverySettings) -> delivery.DeliveryResult:
    return delivery.deliver(db, RUN, open_store(tmp_path / "assets"), config)


def attempts(db: Database) -> list[tuple]:
    return [(a["attempt"], a["status_code"], a["ok"]) for a in repo.deliveries(db, RUN)]


def test_the_document_lists_every_delivered_file_signed_with_the_secret(
        db: Database, tmp_path: Path, finished_run: str, receiver: ResultsReceiver) -> None:
    result = send(db, tmp_path, settings(receiver.url))

    assert result.status == "delivered" and result.attempts == 1
    [post] = receiver.posts
    assert signature_is_valid(post, SECRET)
    assert not signature_is_valid(post, "another secret")
    assert post.headers["X-AdForge-Run"] == RUN
    document = post.document()
    assert (document["run_id"], document["status"]) == (RUN, "partial")
    assert document["counts"] == {"products": 3, "published": 2, "in_review": 1,
                                  "failed": 0, "renditions": 3}
    listed = {(p["sku"], r["platform"]): r for p in document["products"]
              for r in p["renditions"]}
    assert set(listed) == set(FILES)
    for (sku, platform), entry in listed.items():
        with urllib.request.urlopen(entry["url"]) as opened:  # a file:// URL that opens
            data = opened.read()
        assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        assert entry["format"] == FILES[(sku, platform)]
        assert (entry["width"], entry["height"]) == (60, 40)
        assert entry["backends"] == {"text": {"backend": "typeset"}}
    assert attempts(db) == [(1, 200, True)]


def test_a_5xx_and_a_timeout_are_retried_with_each_attempt_recorded(
        db: Database, tmp_path: Path, finished_run: str) -> None:
    with ResultsReceiver([(500, 0.0), (200, 1.5), (503, 0.0)]) as receiver:  # a late 200
        result = send(db, tmp_path, settings(receiver.url, timeout_s=0.5, retries=3))

    assert (result.status, result.attempts) == ("delivered", 4)
    assert attempts(db) == [(1, 500, False), (2, None, False), (3, 503, False), (4, 200, True)]
    assert "Timeout" in repo.deliveries(db, RUN)[1]["error"]
    assert all(signature_is_valid(post, SECRET) for post in receiver.posts)
    assert len({post.body for post in receiver.posts}) == 1  # the same document each time


def test_a_4xx_is_not_retried(db: Database, tmp_path: Path, finished_run: str) -> None:
    with ResultsReceiver([(400, 0.0)]) as receiver:
        result = send(db, tmp_path, settings(receiver.url))

    assert (result.status, result.attempts, result.status_code) == ("failed", 1, 400)
    assert "HTTP 400" in (result.error or "") and "receiver says no" in (result.error or "")
    assert attempts(db) == [(1, 400, False)]


def test_a_receiver_that_stays_down_fails_the_delivery_not_the_caller(
        db: Database, tmp_path: Path, finished_run: str) -> None:
    result = send(db, tmp_path, settings(closed_port_url()))

    assert (result.status, result.attempts) == ("failed", 3)
    assert attempts(db) == [(1, None, False), (2, None, False), (3, None, False)]
    assert "ConnectError" in (result.error or "")
    page = render_html(repo.run_summary(db, RUN), tmp_path)
    assert "Delivery failed" in page and f"adforge deliver {RUN}" in page
    assert page.count("ConnectError") == 3


def test_the_report_shows_the_webhook_without_its_path_or_query(
        db: Database, tmp_path: Path, finished_run: str, receiver: ResultsReceiver) -> None:
    send(db, tmp_path, settings(receiver.url))

    [attempt] = repo.deliveries(db, RUN)
    assert attempt["url"] == receiver.url.split("/hooks")[0]  # no path, no ?token=
    page = render_html(repo.run_summary(db, RUN), tmp_path)
    assert "Results delivered to http://127.0.0.1:" in page and "t0k" not in page


def test_a_missing_file_is_a_failed_attempt(db: Database, tmp_path: Path, finished_run: str,
                                            receiver: ResultsReceiver) -> None:
    next((tmp_path / "outputs" / RUN / "HB-JAR-02").iterdir()).unlink()

    result = send(db, tmp_path, settings(receiver.url))

    assert result.failed and "could not be made" in (result.error or "")
    assert receiver.posts == [] and attempts(db) == [(1, None, False)]


def test_no_webhook_set_sends_nothing(db: Database, tmp_path: Path, finished_run: str) -> None:
    assert send(db, tmp_path, DeliverySettings()).status == "off"
    assert attempts(db) == []


def test_verify_signature_refuses_an_old_or_altered_request() -> None:
    body = b'{"run_id":"run-1"}'
    headers = delivery.signed_headers(body, RUN, SECRET, now=1_000_000)
    stamp, signed = headers["X-AdForge-Timestamp"], headers["X-AdForge-Signature"]

    assert delivery.verify_signature(body, stamp, signed, SECRET, now=1_000_100)
    assert not delivery.verify_signature(body, stamp, signed, SECRET, now=1_000_301)
    assert not delivery.verify_signature(body + b" ", stamp, signed, SECRET, now=1_000_100)
    assert not delivery.verify_signature(body, "1000001", signed, SECRET, now=1_000_100)
    assert "X-AdForge-Signature" not in delivery.signed_headers(body, RUN, None)


def test_a_webhook_that_is_not_http_is_refused_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADFORGE_DELIVERY__WEBHOOK_URL", "ftp://example.com/in")
    with pytest.raises(SettingsError, match="ADFORGE_DELIVERY__WEBHOOK_URL"):
        load_settings()


def _deliver_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str | None,
                 run_id: str = RUN) -> tuple[int, str]:
    monkeypatch.setenv("ADFORGE_DB_URL", f"sqlite:///{tmp_path / 'adforge.db'}")
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ADFORGE_DELIVERY__WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ADFORGE_DELIVERY__RETRIES", "1")
    monkeypatch.setenv("ADFORGE_DELIVERY__BACKOFF_S", "0.01")
    if url is not None:
        monkeypatch.setenv("ADFORGE_DELIVERY__WEBHOOK_URL", url)
    result = CliRunner().invoke(app, ["deliver", run_id])
    return result.exit_code, result.output


def test_adforge_deliver_resends_and_says_when_the_receiver_fails(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db: Database, finished_run: str,
        receiver: ResultsReceiver) -> None:
    code, output = _deliver_cli(monkeypatch, tmp_path, receiver.url)
    assert code == 0, output
    assert "delivered (HTTP 200, 1 attempt)" in output
    assert json.loads(receiver.posts[0].body)["run_id"] == RUN

    receiver.answers = [(500, 0.0), (502, 0.0)]
    code, output = _deliver_cli(monkeypatch, tmp_path, receiver.url)
    assert code == 1
    assert "failed after 2 attempts: HTTP 502" in output
    assert attempts(db) == [(1, 200, True), (2, 500, False), (3, 502, False)]  # numbered on


def test_adforge_deliver_needs_a_webhook_and_a_known_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, finished_run: str,
        receiver: ResultsReceiver) -> None:
    code, output = _deliver_cli(monkeypatch, tmp_path, None)
    assert code == 2 and "ADFORGE_DELIVERY__WEBHOOK_URL" in output
    code, output = _deliver_cli(monkeypatch, tmp_path, receiver.url, run_id="no-such-run")
    assert code == 2 and "no-such-run" in output
    assert receiver.posts == []
