"""Connection to the tracking database: engine, SQLite pragmas, migrations, sessions.

    db = open_database("sqlite:///.adforge/adforge.db")   # creates the folder, migrates
    with db.session() as session:                          # commits, or rolls back
        ...

The schema is brought to the newest Alembic revision the first time a `Database` is used;
that step is idempotent and safe when several processes open a new database at once
(SQLite: the upgrade runs under `BEGIN IMMEDIATE`; PostgreSQL: under an advisory lock).

SQLite connections run with WAL journalling, a 30 s busy timeout, foreign keys on and
`synchronous=NORMAL`; every transaction starts with `BEGIN IMMEDIATE`, so two writers
queue on the busy timeout instead of failing on a read-to-write upgrade.

Faults that may pass on their own (a locked database, a dropped connection, a
serialisation failure) leave `session()` as `adforge.errors.TransientError`. A database
that cannot be reached is waited for first: `connect()` retries with backoff for up to
`connect_retry_s` seconds (default 20).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from adforge.errors import TransientError

DEFAULT_DATABASE_URL = "sqlite:///.adforge/adforge.db"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_PRAGMAS = (
    "busy_timeout=30000",
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
)
# OperationalError texts that no retry will cure (SQLite reports these as operational).
PERMANENT_MARKERS = ("no such ", "syntax error", "already exists", "has no column", "malformed",
                     "authentication failed", "does not exist")
CONNECT_RETRY_S = 20.0  # how long a session waits for an unreachable database to come back


def is_transient(exc: BaseException) -> bool:
    """Whether a database error may pass on its own (and so deserves a retry)."""
    if isinstance(exc, DisconnectionError | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        return not any(marker in message for marker in PERMANENT_MARKERS)
    return False


@contextmanager
def transient_errors(where: str) -> Iterator[None]:
    """Re-raise transient database errors as `TransientError`; others unchanged."""
    try:
        yield
    except Exception as exc:
        if is_transient(exc):
            raise TransientError(f"database {where}: {exc}") from exc
        raise


# ---------------------------------------------------------------------------------------
# Migrations
# ---------------------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration shipped with this version of AdForge."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _already_exists(exc: BaseException) -> bool:
    """A schema object created by a concurrent upgrade (SQLite or PostgreSQL wording)."""
    message = str(exc).lower()
    return "already exists" in message or "duplicate key value" in message


# ---------------------------------------------------------------------------------------
# Engine
# ---------------------------------------------------------------------------------------


def _is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not pysqlite's
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_tracking_engine(url: str | URL) -> Engine:
    """An engine for the URL; SQLite files get their folder, pragmas and BEGIN IMMEDIATE."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if _is_sqlite_memory(url):
        engine = create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


# ---------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------


class Database:
    """The tracking database at one SQLAlchemy URL."""

    def __init__(self, url: str | URL = DEFAULT_DATABASE_URL,
                 connect_retry_s: float = CONNECT_RETRY_S) -> None:
        self.url = make_url(url)
        self.connect_retry_s = connect_retry_s
        self.engine = create_tracking_engine(self.url)
        self._schema_ready = False

    @classmethod
    def open(cls, url: str | URL = DEFAULT_DATABASE_URL) -> Database:
        """Connect and bring the schema to the newest revision."""
        database = cls(url)
        database.upgrade()
        return database

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def upgrade(self) -> None:
        """Apply every pending migration (`alembic upgrade head`); a no-op when current."""
        self.connect().close()  # waits (with backoff) while the database is unreachable
        try:
            with transient_errors(f"{self.display_url} (migrating)"):
                self._run_upgrade()
        except DBAPIError as exc:
            if not _already_exists(exc) or self.current_revision() != head_revision():
                raise
        self._schema_ready = True

    def _run_upgrade(self) -> None:
        with self.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")

    def current_revision(self) -> str | None:
        """The revision the database is at (None for an empty database)."""
        with transient_errors(self.display_url), self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        if not self._schema_ready:
            self.upgrade()
        connection = self.connect()
        try:
            with transient_errors(self.display_url), \
                    Session(bind=connection, expire_on_commit=False) as session, \
                    session.begin():
                yield session
        finally:
            connection.close()

    def connect(self) -> Connection:
        """A connection; while the database is unreachable, retried with backoff for up to
        `connect_retry_s` seconds before `TransientError` is raised."""
        deadline = time.monotonic() + self.connect_retry_s
        delay = 0.2
        while True:
            try:
                with transient_errors(self.display_url):
                    return self.engine.connect()
            except TransientError:
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 3.0)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_database(url: str | URL = DEFAULT_DATABASE_URL) -> Database:
    """Connect to the tracking database at `url`, migrating it on first use."""
    return Database.open(url)
