"""`adforge run` uses the server of `adforge server up` when one answers; `--local` not.

The run is a subprocess without PREFECT_API_URL whose ADFORGE_HOME holds the service
fixture's state folder (`<home>/service`, where `adforge server up` records its address
and pid by default), so it finds the server as a user's `adforge run` would. The proof
that a flow run is on that server: the flow run id the tracking database recorded for the
campaign, read back through the server's API.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.service.conftest import Service, write_campaign

pytestmark = pytest.mark.slow

REUSE_LINE = "Using the AdForge server at {ui_url} (started by `adforge server up`; " \
             "--local for a temporary one)"


def _run_one_product(svc: Service, folder: Path, *extra: str) -> tuple[str, str]:
    """`adforge run` of one product for one platform; its output and the flow run id its
    tracking database recorded."""
    brief, brand = write_campaign(folder / "in", ("bottle",))
    env = {k: v for k, v in svc.env.items()
           if k not in ("PREFECT_API_URL", "ADFORGE_NOTIFICATIONS__SLACK_WEBHOOK_URL")}
    env["ADFORGE_HOME"] = str(svc.state.folder.parent)  # its service/ is the fixture's
    db_url = f"sqlite:///{folder / 'adforge.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "adforge_app.cli", "run", str(brief), "--brand", str(brand),
         "--platforms", "instagram_post", "--db", db_url, "--store", str(folder / "assets"),
         "--out", str(folder / "out"), *extra],
        env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with sa.create_engine(db_url).connect() as conn:
        (flow_run_id,) = conn.execute(sa.text("select flow_run_id from runs")).scalars()
    return done.stdout, flow_run_id


def test_adforge_run_uses_the_running_server(prefect_service: Service, tmp_path: Path) -> None:
    assert prefect_service.state.folder.name == "service"
    output, flow_run_id = _run_one_product(prefect_service, tmp_path)
    assert REUSE_LINE.format(ui_url=prefect_service.ui_url) in output
    assert "Starting Prefect's local server" not in output
    flow_run = prefect_service.api.flow_run(flow_run_id)
    assert flow_run["state_type"] == "COMPLETED", flow_run["state"]
    assert flow_run["deployment_id"] is None  # run in the command's process, not a worker's
    flow = prefect_service.api.http.get(f"/flows/{flow_run['flow_id']}").json()
    assert flow["name"] == "brand-content"


def test_local_forces_a_temporary_server(prefect_service: Service, tmp_path: Path) -> None:
    output, flow_run_id = _run_one_product(prefect_service, tmp_path, "--local")
    assert "Using the AdForge server" not in output
    assert "Starting Prefect's local server" in output
    assert flow_run_id
    response = prefect_service.api.http.get(f"/flow_runs/{flow_run_id}")
    assert response.status_code == 404
