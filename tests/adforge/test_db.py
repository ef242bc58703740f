"""The tracking database: migrations, pragmas, idempotent writers, the run summary."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import OperationalError

from adforge.db import Database, head_revision, is_transient, open_database
from adforge.db import repository as repo
from adforge.db.database import alembic_config, create_tracking_engine
from adforge.db.models import Asset, Base, ErrorRecord, Product, Quality, Rendition
from adforge.errors import AdForgeError, TransientError

TABLES = {"runs", "products", "assets", "renditions", "model_events", "quality", "errors"}
BRIEF = {"brief": "briefs/spring.csv", "brief_sha256": "f" * 64, "brand": "acme",
         "profile": "classic"}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nested' / 'adforge.db'}"


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    database = open_database(url)
    yield database
    database.close()


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def start(db: Database, run_id: str = "run-1") -> str:
    return repo.start_run(db, run_id=run_id, **BRIEF)


# --- schema -------------------------------------------------------------------------


def test_migrations_create_every_table_in_a_new_folder(db: Database, url: str) -> None:
    assert Path(db.url.database or "").is_file()
    assert TABLES <= set(inspect(db.engine).get_table_names())
    assert db.current_revision() == head_revision()


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_opening_twice_is_idempotent(db: Database, url: str) -> None:
    start(db)
    with open_database(url) as again:
        assert again.current_revision() == head_revision()
        assert repo.latest_run_id(again) == "run-1"


def test_racing_first_opens_both_succeed(url: str) -> None:
    failures: list[BaseException] = []

    def open_and_close() -> None:
        try:
            open_database(url).close()
        except BaseException as exc:  # noqa: B036 - reported by the assert below
            failures.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []


def test_sqlite_pragmas(db: Database) -> None:
    with db.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 30000
        assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_session_works_without_an_explicit_open(tmp_path: Path) -> None:
    with Database(f"sqlite:///{tmp_path / 'lazy.db'}") as lazy:
        assert repo.latest_run_id(lazy) is None
        assert lazy.current_revision() == head_revision()


# --- transient faults ---------------------------------------------------------------


def operational(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def test_locked_database_is_transient_and_missing_table_is_not() -> None:
    assert is_transient(operational("database is locked"))
    assert not is_transient(operational("no such table: runs"))


def test_session_raises_transient_error(db: Database) -> None:
    with pytest.raises(TransientError, match="locked"), db.session():
        raise operational("database is locked")


# --- writers ------------------------------------------------------------------------


def asset_fields(uri: str) -> dict:
    return {"key": "segment/ab/abc.png", "stage": "segment", "uri": uri, "sha256": "a" * 64,
            "size_bytes": 10, "backend": "classic", "params": {"path": Path("/x")}}


def test_record_asset_keeps_one_row_per_key(db: Database) -> None:
    start(db)
    first = repo.record_asset(db, run_id="run-1", **asset_fields("file:///a.png"))
    again = repo.record_asset(db, run_id="run-1", **asset_fields("file:///b.png"))
    assert count(db, Asset) == 1
    assert again == first and first.uri == "file:///a.png"
    assert first.params == {"path": "/x"}
    assert first.created_at.tzinfo is not None
    assert repo.find_asset(db, first.key) == first
    assert repo.find_asset(db, "missing/key.png") is None


def test_record_rendition_and_quality_upsert(db: Database) -> None:
    start(db)
    for uri in ("file:///1.png", "file:///2.png"):
        repo.record_rendition(db, run_id="run-1", sku="A1", platform="instagram_post",
                              width=1080, height=1080, uri=uri, asset_key="r/ab/x.png")
        repo.record_quality(db, run_id="run-1", sku="A1", subject="master",
                            metric="contrast", value=4.8, passed=True)
    assert count(db, Rendition) == 1 and count(db, Quality) == 1
    with db.session() as session:
        assert session.scalars(select(Rendition.uri)).one() == "file:///2.png"


def test_products_and_errors_are_not_duplicated(db: Database) -> None:
    start(db)
    for _ in range(2):
        repo.upsert_product(db, run_id="run-1", sku="A1", name="Mug", source_uri="a.jpg")
        repo.set_product_status(db, "run-1", "A1", "done")
        repo.record_error(db, "run-1", "A1", "segment", "warning", "soft edge", field="photo")
    assert count(db, Product) == 1 and count(db, ErrorRecord) == 1
    with db.session() as session:
        assert session.scalars(select(Product.status)).one() == "done"


def test_unknown_run_and_bad_status_are_refused(db: Database) -> None:
    with pytest.raises(AdForgeError, match="not in the tracking database"):
        repo.finish_run(db, "nope", "completed", 0, 0)
    with pytest.raises(ValueError, match="run status"):
        repo.finish_run(db, "nope", "done", 0, 0)  # type: ignore[arg-type]


BACKENDS = {
    "segment": {"backend": "birefnet"},
    "background": {"backend": "flux", "width": 1200, "height": 600, "generated": (1440, 720)},
    "layout": {"backend": "classic", "fallback_from": "qwen2-vl",
               "reason": "answer overlapped the product"},
    "text": {"backend": "edit", "attempts": 2},
}
AS_JSON = BACKENDS | {"background": BACKENDS["background"] | {"generated": [1440, 720]}}


def rendition(db: Database, sku: str, backends: dict | None = None) -> None:
    repo.record_rendition(db, run_id="run-1", sku=sku, platform="blog_header", width=1200,
                          height=600, uri=f"file:///{sku}.png", asset_key=f"r/{sku}.png",
                          backends=backends)


def renditions_of(db: Database) -> dict[str, list[dict]]:
    return {p["sku"]: p["renditions"] for p in repo.run_summary(db, "run-1")["products"]}


def test_rendition_backends_round_trip_and_are_replaced(db: Database) -> None:
    start(db)
    repo.upsert_product(db, run_id="run-1", sku="A1", name="Mug", source_uri="a.jpg")
    rendition(db, "A1", {"layout": {"backend": "qwen2-vl"}})
    rendition(db, "A1", BACKENDS)
    assert count(db, Rendition) == 1
    assert renditions_of(db)["A1"][0]["backends"] == AS_JSON


def test_migration_upgrades_a_database_of_the_previous_release(url: str) -> None:
    engine = create_tracking_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(text(
            "INSERT INTO runs (id, brief, brief_sha256, brand, profile, status, started_at,"
            " n_products, n_failed) VALUES ('run-1', 'b.csv', 's', 'acme', 'classic',"
            " 'completed', '2025-01-01 00:00:00+00:00', 1, 0)"))
        connection.execute(text(
            "INSERT INTO products (run_id, sku, name, source_uri, status)"
            " VALUES ('run-1', 'OLD', 'Mug', 'a.jpg', 'done')"))
        connection.execute(text(
            "INSERT INTO renditions (run_id, sku, platform, width, height, uri, asset_key)"
            " VALUES ('run-1', 'OLD', 'blog_header', 1200, 600, 'file:///OLD.png', 'k')"))
    engine.dispose()
    with open_database(url) as db:
        assert db.current_revision() == head_revision() != "0001"
        assert renditions_of(db)["OLD"] == [{"platform": "blog_header", "width": 1200,
                                             "height": 600, "uri": "file:///OLD.png",
                                             "backends": None}]
        repo.upsert_product(db, run_id="run-1", sku="NEW", name="Jar", source_uri="b.jpg")
        rendition(db, "NEW", BACKENDS)
        assert renditions_of(db)["NEW"][0]["backends"] == AS_JSON
        with db.engine.begin() as connection:  # and back again, keeping the rows
            command.downgrade(alembic_config(connection), "0001")
        assert "backends" not in {c["name"] for c in inspect(db.engine).get_columns("renditions")}
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM renditions")).scalar() == 2


# --- runs and the report --------------------------------------------------------------


def test_rerun_after_partial_run_resumes_it(db: Database) -> None:
    start(db, "run-1")
    repo.finish_run(db, "run-1", "partial", 2, 1)
    start(db, "run-2")
    start(db, "run-2")  # idempotent
    assert repo.run_summary(db, "run-2")["resumed_from"] == "run-1"
    repo.finish_run(db, "run-2", "completed", 2, 0)
    start(db, "run-3")
    assert repo.run_summary(db, "run-3")["resumed_from"] is None
    assert repo.latest_run_id(db) == "run-3"


def test_run_summary_shape(db: Database) -> None:
    start(db)
    repo.upsert_product(db, run_id="run-1", sku="A1", name="Mug", source_uri="a.jpg")
    repo.record_rendition(db, run_id="run-1", sku="A1", platform="blog_header",
                          width=1600, height=900, uri="file:///r.png", asset_key="r/x.png")
    repo.record_quality(db, run_id="run-1", sku="A1", subject="master", metric="fidelity",
                        value=0.99, passed=True)
    repo.record_error(db, "run-1", "A1", "text", "stage", "glyph missing", field="headline")
    repo.record_error(db, "run-1", None, "brief", "input", "row 3: bad colour")
    for action in ("load", "unload"):
        repo.record_model_event(db, run_id="run-1", model="birefnet", action=action,
                                placement="cpu", nbytes=1 << 20, seconds=0.5)
    repo.finish_run(db, "run-1", "partial", 1, 1)

    summary = repo.run_summary(db, "run-1")
    assert summary["status"] == "partial" and summary["profile"] == "classic"
    assert summary["brief"] == BRIEF["brief"]
    assert dt.datetime.fromisoformat(summary["finished_at"]).tzinfo is not None
    assert summary["products"] == [{
        "sku": "A1", "name": "Mug", "status": "pending",
        "errors": [{"stage": "text", "kind": "stage", "field": "headline",
                    "message": "glyph missing"}],
        "renditions": [{"platform": "blog_header", "width": 1600, "height": 900,
                        "uri": "file:///r.png", "backends": None}],
        "quality": {"master": {"fidelity": {"value": 0.99, "passed": True}}},
        "reviews": [],
    }]
    assert summary["errors"][0]["sku"] is None
    assert summary["model_events"] == {"birefnet": {"load": 1, "unload": 1}}
