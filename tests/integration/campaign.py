"""Helpers for the integration tests: campaign inputs (local or in S3), CLI runs, checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from adforge.demo import DEMO_COPY
from adforge.recovery import TEMP_PID
from tests import campaign_inputs
from tests.integration.conftest import S3Env

REPO = Path(__file__).resolve().parents[2]


def write_campaign(folder: Path, kinds: tuple[str, ...]) -> tuple[Path, Path]:
    """Sample photos, a brief (relative image paths) and a brand kit in `folder`."""
    return campaign_inputs.write_campaign(folder, kinds, size=384)


def upload_folder(env: S3Env, folder: Path, prefix: str) -> str:
    """Copy a local folder into the bucket under `prefix`; returns its s3:// URI."""
    client = env.server.client()
    for path in folder.rglob("*"):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(folder).as_posix()}"
            client.upload_file(str(path), env.bucket, key)
    return f"s3://{env.bucket}/{prefix}"


def sku(kind: str) -> str:
    return DEMO_COPY[kind]["sku"]


def cli_process(args: list[str], api_url: str, log: Path) -> subprocess.Popen:
    """`python -m adforge_app.cli ARGS` against the test's Prefect server, output to `log`."""
    env = os.environ | {"PREFECT_API_URL": api_url, "PYTHONPATH": str(REPO)}
    with open(log, "wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "adforge_app.cli", *args], cwd=REPO,
                                env=env, stdout=sink, stderr=subprocess.STDOUT)


def prefect_api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the Prefect test harness sets PREFECT_API_URL"
    return url


def rows(db_url: str, query: str) -> list[tuple]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def duplicate_rows(db_url: str) -> int:
    """Rows that repeat a natural key, over every table that has one."""
    checks = (
        "select count(*) from (select key from assets group by key having count(*) > 1) d",
        "select count(*) from (select run_id, sku from products group by run_id, sku "
        "having count(*) > 1) d",
        "select count(*) from (select run_id, sku, platform from renditions "
        "group by run_id, sku, platform having count(*) > 1) d",
        "select count(*) from (select run_id, sku, subject, metric from quality "
        "group by run_id, sku, subject, metric having count(*) > 1) d",
    )
    return sum(rows(db_url, query)[0][0] for query in checks)


def temp_files(*folders: Path) -> list[Path]:
    """In-flight temporary files (`.name.pid-random.tmp`) under the folders."""
    return [path for folder in folders if folder.is_dir() for path in folder.rglob(".*.tmp")
            if TEMP_PID.search(path.name)]
