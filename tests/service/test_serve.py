"""`adforge serve`: every deployment served in-process, no work pool and no worker."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from adforge_app import service
from tests.service.api import PrefectAPI
from tests.service.conftest import ADFORGE, write_campaign

pytestmark = pytest.mark.slow


def _wait_for_deployment(api: PrefectAPI, name: str, serve: subprocess.Popen) -> dict:
    for _ in range(240):
        assert serve.poll() is None, "adforge serve exited"
        response = api.http.get(f"/deployments/name/{name}")
        if response.status_code == 200:
            return response.json()
        time.sleep(0.5)
    raise AssertionError(f"adforge serve never registered {name}")


def test_serve_runs_a_campaign_without_workers(tmp_path: Path) -> None:
    state = service.ServiceState(tmp_path / "service")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADFORGE_"))}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect-home"), "ADFORGE_HOME": str(tmp_path),
            "ADFORGE_OUT_DIR": str(tmp_path / "outputs")}
    brief, brand = write_campaign(tmp_path / "in", ("mug",))
    serve = None
    try:
        api_url = service.start_server(state, "127.0.0.1", service.free_port())
        serve = subprocess.Popen([ADFORGE, "serve"], env=env | {"PREFECT_API_URL": api_url},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
        api = PrefectAPI(api_url)
        _wait_for_deployment(api, "renditions/gpu", serve)  # the last one served
        deployment = api.deployment("brand-content/manual")
        assert deployment["work_pool_name"] is None  # served, not on a pool
        run = api.create_run("brand-content/manual", {"request": {
            "brief_uri": str(brief), "brand_kit": str(brand), "platforms": ["twitter_card"]}})
        assert run.status_code == 201, run.text
        finished = api.wait(run.json()["id"])
    finally:
        if serve is not None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        service.stop_all(state)
    assert finished["state_type"] == "COMPLETED", finished["state"]
    assert list((tmp_path / "outputs").glob("*/HB-MUG-04/twitter_card.jpg"))
