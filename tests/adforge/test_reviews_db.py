"""The review queue's rows: held once, decided once, statuses settled from them; and the
migration that adds the table, up and down."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from adforge.db import Database, open_database, reviews
from adforge.db import repository as repo
from adforge.db.database import alembic_config
from adforge.errors import AdForgeError

FAILING = [{"gate": "segment_confidence", "value": 0.05, "threshold": 0.5}]


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'adforge.db'}")
    repo.start_run(database, run_id="run-1", brief="b.csv", brief_sha256="s", brand="acme",
                   profile="classic")
    for sku in ("A1", "B2"):
        repo.upsert_product(database, run_id="run-1", sku=sku, name="", source_uri="x.png")
    return database


def _hold(db: Database, sku: str, platform: str) -> None:
    reviews.hold(db, run_id="run-1", sku=sku, platform=platform, failing=FAILING,
                 picture=f"/out/review/{sku}/{platform}.png", asset_key="text/k.json")


def test_an_item_is_held_once_and_keeps_its_decision(db: Database) -> None:
    _hold(db, "A1", "blog_header")
    _hold(db, "A1", "blog_header")  # a retried task
    [item] = reviews.items(db, run_id="run-1")
    assert item["failing"] == FAILING and item["status"] == "pending"
    assert reviews.decide(db, "run-1", "A1", "blog_header", "rejected", by="ana", reason="blur")
    assert not reviews.decide(db, "run-1", "A1", "blog_header", "rejected", by="ana",
                              reason="blur")
    _hold(db, "A1", "blog_header")
    [item] = reviews.items(db, status=None)
    assert (item["status"], item["decided_by"], item["reason"]) == ("rejected", "ana", "blur")
    assert item["decided_at"] is not None
    with pytest.raises(AdForgeError, match="already rejected by ana"):
        reviews.decide(db, "run-1", "A1", "blog_header", "approved", by="bo", reason=None)
    with pytest.raises(AdForgeError, match="not in the review queue"):
        reviews.decide(db, "run-1", "A1", "instagram_post", "approved", by="bo", reason=None)


def test_statuses_settle_from_the_decisions(db: Database) -> None:
    repo.set_product_status(db, "run-1", "A1", "done")
    repo.set_product_status(db, "run-1", "B2", "needs-review")
    repo.finish_run(db, "run-1", "partial", n_products=3, n_failed=1)  # a refused brief row
    _hold(db, "B2", "blog_header")
    assert reviews.counts(db, "run-1").words() == "1 published, 1 in review, 1 failed"
    assert reviews.settle_product(db, "run-1", "B2") == "needs-review"

    reviews.decide(db, "run-1", "B2", "blog_header", "rejected", by="ana", reason="no")
    assert reviews.settle_product(db, "run-1", "B2") == "rejected"  # nothing delivered
    settled = reviews.settle_run(db, "run-1")
    assert (settled.published, settled.in_review, settled.failed) == (1, 0, 2)
    assert repo.run_summary(db, "run-1")["status"] == "partial"
    assert repo.run_summary(db, "run-1")["products"][1]["reviews"][0]["status"] == "rejected"


@pytest.mark.parametrize(("published", "in_review", "failed", "status"), [
    (2, 0, 0, "completed"), (1, 1, 0, "partial"), (1, 0, 1, "partial"),
    (0, 1, 0, "partial"), (0, 0, 2, "failed")])
def test_a_run_is_completed_only_when_everything_was_published(
        published: int, in_review: int, failed: int, status: str) -> None:
    assert reviews.Counts(published, in_review, failed).status == status


def test_the_reviews_migration_goes_up_and_down(db: Database) -> None:
    _hold(db, "A1", "blog_header")
    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
    assert "reviews" not in inspect(db.engine).get_table_names()
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert "reviews" in inspect(db.engine).get_table_names()
