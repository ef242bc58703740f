"""Hostile conditions around a whole run: Ctrl-C in the middle, and a database password.

- Ctrl-C (SIGINT to the process group of `adforge run`, as a terminal sends it) on an
  8-product run returns to the shell within 10 s, prints one line, leaves the run
  `interrupted` in the tracking database, and a rerun resumes it.
- A run whose database URL holds a password stores and shows it nowhere: not in the
  command's output, the state folder, the asset store, the outputs, nor Prefect's
  database (a flow parameter would put it there, and in the UI).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile.conftest import EXIT_OK, KINDS, Campaign, good_row, refused
from tests.integration.conftest import PostgresCluster, postgres  # noqa: F401 - fixture

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

REPO = Path(__file__).resolve().parents[2]
PLATFORMS = "instagram_post,blog_header,blog_thumbnail,twitter_card"
INTERRUPT_WITHIN_S = 10.0


def _eight_products(campaign: Campaign) -> Path:
    return campaign.brief([good_row(f"P-{i}", campaign.photo(f"p{i}.png", kind))
                           for i, kind in enumerate(KINDS)])


def _wait_for_a_composite(campaign: Campaign, process: subprocess.Popen,
                          timeout_s: float = 240.0) -> None:
    """Until the run is in its canvas stages (a composite is stored): mid-run."""
    deadline = time.monotonic() + timeout_s
    while not any((campaign.home / "assets" / "composite").rglob("*.json")):
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no composite was stored"
        time.sleep(0.05)


def test_ctrl_c_stops_the_run_in_seconds_and_a_rerun_resumes_it(campaign: Campaign) -> None:
    """As in a terminal: no PREFECT_API_URL, so the command starts Prefect's temporary
    server, in the same process group, which the same Ctrl-C stops (before, the run
    then spent minutes failing to reach it)."""
    brief, kit = _eight_products(campaign), campaign.kit()
    log = campaign.root / "interrupted.log"
    env = {name: value for name, value in os.environ.items()
           if name != "PREFECT_API_URL"} | campaign.env | {
        "PREFECT_HOME": str(campaign.root / "prefect"), "PYTHONPATH": str(REPO)}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "adforge_app.cli", "run", str(brief), "--brand", str(kit),
             "--platforms", PLATFORMS], cwd=REPO, env=env, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True)  # its own process group
        _wait_for_a_composite(campaign, process)
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        process.wait(timeout=60)
        took = time.monotonic() - sent
    output = log.read_text(errors="replace")
    assert took < INTERRUPT_WITHIN_S, (took, output[-2000:])
    assert process.returncode == 130, output[-2000:]
    assert "Traceback" not in output, output
    assert "Error logging to API" not in output, output
    after = output.split("interrupted: ", 1)[1]
    assert len(after.strip().splitlines()) == 1, after  # one line, and nothing after it
    [(interrupted, status)] = campaign.runs()
    assert status == "interrupted" and interrupted in after

    rerun = campaign.run(brief, "--platforms", PLATFORMS, kit=kit)
    assert rerun.exit_code == EXIT_OK, rerun.output
    [(resumed_from,)] = campaign.rows("select resumed_from from runs where status = "
                                      "'completed'")
    assert resumed_from == interrupted
    assert len(campaign.published()) == 8 * 4


def _prefect_database_folder() -> Path:
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = PREFECT_API_DATABASE_CONNECTION_URL.value()
    assert url and url.startswith("sqlite"), url
    return Path(url.split(":///", 1)[1]).parent


def test_a_database_password_is_stored_and_shown_nowhere(
        campaign: Campaign, postgres: PostgresCluster) -> None:  # noqa: F811
    secret = "S3CRETPW" + os.urandom(6).hex()
    url = postgres.create_database().replace("postgres@", f"postgres:{secret}@")
    brief = campaign.brief([good_row("OK-1", campaign.photo("ok.png"))])
    result = campaign.run(brief, "--db", url)
    assert result.exit_code == EXIT_OK, result.output
    assert secret not in result.output
    assert campaign.files_containing(secret) == []  # state, store, outputs, inputs
    config = next((campaign.home / "assets" / "runs").glob("*/config.json")).read_text()
    assert "db_url" not in config
    prefect_files = [path for path in _prefect_database_folder().rglob("*")
                     if path.is_file() and secret.encode() in path.read_bytes()]
    assert prefect_files == [], "the password is in Prefect's database"


def test_the_database_url_can_come_from_a_prefect_secret_block(campaign: Campaign) -> None:
    """A deployment's workers may share the URL through a Secret block, not a parameter."""
    from prefect.blocks.system import Secret

    name = "adforge-db-" + os.urandom(3).hex()
    elsewhere = campaign.root / "from-the-secret.db"
    Secret(value=f"sqlite:///{elsewhere}").save(name)
    brief = campaign.brief([good_row("OK-1", campaign.photo("ok.png"))])
    result = campaign.run(brief, env={"ADFORGE_DB_SECRET_BLOCK": name})
    assert result.exit_code == EXIT_OK, result.output
    assert elsewhere.is_file() and not (campaign.home / "adforge.db").exists()


def test_an_unknown_secret_block_is_refused(campaign: Campaign) -> None:
    brief = campaign.brief([good_row("OK-1", campaign.photo("ok.png"))])
    result = campaign.run(brief, env={"ADFORGE_DB_SECRET_BLOCK": "no-such-block"})
    refused(result, "ADFORGE_DB_SECRET_BLOCK=no-such-block", "no Prefect Secret block")
