"""Shared fixtures: one real Prefect harness per session, isolated AdForge state per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adforge_app.prefect_env import configure_prefect_environment

configure_prefect_environment()

TEST_OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real (temporary, SQLite) Prefect server for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture()
def adforge_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point AdForge's state (database, store, outputs) at a fresh temporary folder."""
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ADFORGE_OUT_DIR", str(tmp_path / "outputs"))
    return tmp_path
