"""The tracking database on a real PostgreSQL cluster through psycopg 3."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from adforge.db import Database, head_revision, open_database
from adforge.db import repository as repo
from tests.integration.conftest import PostgresCluster

pytestmark = pytest.mark.slow


def test_the_same_migrations_run_on_postgres(pg_url: str) -> None:
    db = open_database(pg_url)
    assert db.engine.dialect.name == "postgresql" and db.engine.driver == "psycopg"
    assert db.current_revision() == head_revision()
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {"runs", "products", "assets", "renditions", "quality", "errors"} <= tables
    open_database(pg_url).upgrade()  # a second upgrade is a no-op
    assert db.current_revision() == head_revision()


def test_concurrent_upserts_keep_one_row(pg_url: str) -> None:
    db = open_database(pg_url)
    repo.start_run(db, run_id="r1", brief="b.csv", brief_sha256="s", brand="B", profile="classic")

    def record(i: int) -> None:
        repo.record_asset(db, key="segment/aa/k.json", stage="segment", uri=f"s3://b/{i}",
                          sha256="0" * 64, size_bytes=1, backend="classic", run_id="r1")
        repo.upsert_product(db, run_id="r1", sku="SKU-1", name=f"n{i}", source_uri="x")
        repo.record_rendition(db, run_id="r1", sku="SKU-1", platform="instagram_post",
                              width=1, height=1, uri=f"s3://b/{i}", asset_key="k")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(record, range(32)))
    with db.engine.connect() as connection:
        for table in ("assets", "products", "renditions"):
            count = connection.execute(sa.text(f"select count(*) from {table}")).scalar_one()
            assert count == 1, table


def test_database_briefly_unreachable_is_retried(postgres: PostgresCluster,
                                                 pg_url: str) -> None:
    db = Database.open(pg_url)
    repo.start_run(db, run_id="r1", brief="b.csv", brief_sha256="s", brand="B", profile="classic")
    postgres.stop()
    restart = threading.Timer(1.5, postgres.start)
    restart.start()
    try:
        repo.upsert_product(db, run_id="r1", sku="SKU-1", name="mug", source_uri="x")
    finally:
        restart.join()
    assert repo.run_summary(db, "r1")["products"][0]["sku"] == "SKU-1"
