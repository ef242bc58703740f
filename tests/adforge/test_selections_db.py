"""The selections rows: one per drafted variant, kept or not, with its score, terms, who
chose and when; a re-selection replaces a product's rows; and migration 0005, upgrading
a database of the previous release with its rows intact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from adforge.db import Database, head_revision, open_database
from adforge.db import repository as repo
from adforge.db.database import alembic_config, create_tracking_engine
from adforge.db.selections import flow_run_of, record_selection, selections
from adforge.errors import InputError
from adforge.variants import Selection, auto_selection
from tests.select_inputs import drafted_scores, score_of


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'adforge.db'}")
    repo.start_run(database, run_id="r1", brief="b.csv", brief_sha256="s", brand="acme",
                   profile="classic", flow_run_id="3f1c0d52-0000-4000-8000-000000000001")
    return database


def _kept(rows: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in rows:
        if row["kept"]:
            found.setdefault(row["sku"], []).append(row["variant"])
    return found


def test_every_drafted_variant_is_a_row_kept_or_not(db: Database) -> None:
    scores = drafted_scores()
    record_selection(db, "r1", scores, auto_selection(scores, keep=1))

    rows = selections(db, "r1")
    assert len(rows) == 6
    assert _kept(rows) == {"BOTTLE-1": [score_of("BOTTLE-1", "B").key],
                           "JAR-2": [score_of("JAR-2", "A").key]}  # A and C tie: A
    first = rows[0]  # best first within each product
    best = score_of("BOTTLE-1", "B")
    assert (first["sku"], first["variant"], first["score"]) == ("BOTTLE-1", best.key, best.score)
    assert first["terms"] == best.terms and first["terms"]["min_contrast"] > 0
    assert [row["score"] for row in rows[:3]] == sorted((row["score"] for row in rows[:3]),
                                                       reverse=True)
    assert {row["selected_by"] for row in rows} == {"auto"}
    moment = dt.datetime.fromisoformat(first["selected_at"])
    assert moment.tzinfo is not None and moment.utcoffset() == dt.timedelta(0)


def test_a_reselection_replaces_the_products_rows(db: Database) -> None:
    scores = drafted_scores()
    record_selection(db, "r1", scores, auto_selection(scores, keep=1))
    chosen = {"BOTTLE-1": [score_of("BOTTLE-1", "A").key, score_of("BOTTLE-1", "C").key],
              "JAR-2": [score_of("JAR-2", "B").key]}
    record_selection(db, "r1", scores, Selection(kept=chosen, by="ana"))

    rows = selections(db, "r1")
    assert len(rows) == 6  # replaced, not added
    assert {key: sorted(keys) for key, keys in _kept(rows).items()} == {
        sku: sorted(keys) for sku, keys in chosen.items()}
    assert {row["selected_by"] for row in rows} == {"ana"}


def test_a_variant_no_longer_drafted_leaves_its_product_and_only_it(db: Database) -> None:
    scores = drafted_scores()
    record_selection(db, "r1", scores, auto_selection(scores, keep=1))
    bottle = [s for s in scores if s.sku == "BOTTLE-1" and not s.variant.startswith("C-")]
    record_selection(db, "r1", bottle, Selection(kept={"BOTTLE-1": [bottle[0].key]}, by="bo"))

    rows = selections(db, "r1")
    assert sorted(row["variant"] for row in rows if row["sku"] == "BOTTLE-1") == sorted(
        s.key for s in bottle)
    jar = [row for row in rows if row["sku"] == "JAR-2"]
    assert len(jar) == 3 and {row["selected_by"] for row in jar} == {"auto"}
    record_selection(db, "r1", [], Selection(kept={}, by="nobody"))  # nothing drafted
    assert len(selections(db, "r1")) == 5
    assert selections(db, "another-run") == []


def test_the_flow_run_of_a_run_and_an_unknown_run(db: Database) -> None:
    assert flow_run_of(db, "r1") == "3f1c0d52-0000-4000-8000-000000000001"
    with pytest.raises(InputError, match="run nope is not in the tracking database"):
        flow_run_of(db, "nope")
    repo.start_run(db, run_id="r2", brief="b.csv", brief_sha256="t", brand="acme",
                   profile="classic")
    with pytest.raises(InputError, match="no Prefect flow run"):
        flow_run_of(db, "r2")


def test_migration_0005_upgrades_a_database_of_the_previous_release(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_tracking_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0004")  # as the previous release left it
        connection.execute(text(
            "insert into runs (id, brief, brief_sha256, brand, profile, status, started_at, "
            "n_products, n_failed) values ('r0', 'b.csv', 's', 'acme', 'classic', "
            "'completed', '2025-06-01 10:00:00+00:00', 1, 0)"))
    assert "selections" not in inspect(engine).get_table_names()
    engine.dispose()

    db = open_database(url)  # upgrades to head, as the new release does on first use

    assert db.current_revision() == head_revision()
    assert "selections" in inspect(db.engine).get_table_names()
    assert repo.run_summary(db, "r0")["status"] == "completed"
    scores = drafted_scores()
    record_selection(db, "r0", scores, auto_selection(scores, keep=2))
    assert sum(row["kept"] for row in selections(db, "r0")) == 4
    with db.engine.begin() as connection:  # deleting a run deletes its selections
        connection.execute(text("delete from runs where id = 'r0'"))
    assert selections(db, "r0") == []
