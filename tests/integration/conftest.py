"""Real servers on loopback: moto's standalone S3 server and a throwaway PostgreSQL cluster.

    s3_server     moto_server over HTTP on a free port (stop() / start() for outages)
    s3_env        a bucket, its S3Settings (`s3_env.settings()`), and the ADFORGE_* and
                  AWS_* variables that point a whole run (CLI, flows) and boto3 at the server
    postgres      a cluster made by initdb/pg_ctl (as the `postgres` user when root)
    pg_url        a fresh database in that cluster, as a postgresql+psycopg:// URL
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from adforge.settings import S3Settings

BIN = Path(sys.executable).parent
PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
SECRET = "adforge-test-secret-" + uuid.uuid4().hex  # must never show up in any output
ACCESS_KEY = "AKIAADFORGETESTKEY01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready in {timeout_s} s")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------
# S3: moto's standalone server
# ---------------------------------------------------------------------------------------


class MotoServer:
    """`moto_server -H 127.0.0.1 -p PORT` in a subprocess. Data lives in its memory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until(self._answers, f"moto_server on {self.url}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    def client(self):
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    yield server
    server.stop()


@dataclass
class S3Env:
    server: MotoServer
    bucket: str

    @property
    def store(self) -> str:
        return f"s3://{self.bucket}/campaigns"

    def settings(self, **overrides: object) -> S3Settings:
        """The S3 settings that reach the server (what ADFORGE_S3__* says to a run)."""
        fields = {"endpoint_url": self.server.url, "region": "us-east-1",
                  "addressing_style": "path", "max_attempts": 2, "connect_timeout_s": 1,
                  "read_timeout_s": 5}
        return S3Settings.model_validate(fields | overrides)

    def create_bucket(self) -> None:
        self.server.client().create_bucket(Bucket=self.bucket)

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


@pytest.fixture()
def s3_env(s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> S3Env:
    """A fresh bucket, and the environment that points AdForge and boto3 at the server."""
    variables = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "ADFORGE_S3__ENDPOINT_URL": s3_server.url, "ADFORGE_S3__REGION": "us-east-1",
        "ADFORGE_S3__ADDRESSING_STYLE": "path", "ADFORGE_S3__MAX_ATTEMPTS": "2",
        "ADFORGE_S3__CONNECT_TIMEOUT_S": "1", "ADFORGE_S3__READ_TIMEOUT_S": "5",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    env = S3Env(server=s3_server, bucket=f"adforge-{uuid.uuid4().hex[:10]}")
    env.create_bucket()
    return env


# ---------------------------------------------------------------------------------------
# PostgreSQL: a throwaway cluster from the installed binaries
# ---------------------------------------------------------------------------------------


class PostgresCluster:
    """initdb + pg_ctl in a temporary folder; as the `postgres` user when run as root."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="adforge-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, user="postgres")

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self) -> str:
        import psycopg

        name = f"adforge_{uuid.uuid4().hex[:10]}"
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    if not PG_BINARIES:
        pytest.fail("PostgreSQL server binaries are missing: run scripts/install.sh test "
                    "(it installs Debian's postgresql package)")
    cluster = PostgresCluster(PG_BINARIES[-1].parent)
    cluster.init()
    cluster.start()
    yield cluster
    try:
        cluster.stop()
    finally:
        cluster.remove()


@pytest.fixture()
def pg_url(postgres: PostgresCluster) -> str:
    return postgres.create_database()
