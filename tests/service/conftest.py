"""A real Prefect server, its work pools, the deployments of prefect.yaml and workers.

Started once for tests/service through AdForge's own commands (`adforge server up`,
`adforge deploy`) on a free loopback port, with SQLite and every state folder in a
temporary directory; `adforge server down` (and a process-group kill) ends it all.
Processes get their settings through the environment only, so nothing collides with the
in-process `prefect_harness` of tests/flows.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from adforge_app import service
from tests import campaign_inputs
from tests.service.api import PrefectAPI

ADFORGE = str(Path(sys.executable).with_name("adforge"))


class WebhookRecorder:
    """A local stand-in for Slack's incoming webhook: records every POST body."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.posts.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/X0"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [post.get("text", "") for post in self.posts]

    def wait_for(self, *words: str, timeout: float = 30.0) -> bool:
        """Whether a post containing every word arrives within `timeout` seconds: a
        flow's state hooks run after its final state is already visible in the API."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(all(word in text for word in words) for text in self.texts()):
                return True
            time.sleep(0.2)
        return False


@dataclass
class Service:
    api: PrefectAPI
    api_url: str
    ui_url: str
    root: Path
    state: service.ServiceState
    env: dict[str, str]
    webhook: WebhookRecorder

    @property
    def db(self) -> sa.Engine:
        return sa.create_engine(f"sqlite:///{self.root / 'state' / 'adforge.db'}")

    def count(self, table: str, where: str = "1=1") -> int:
        with self.db.connect() as conn:
            return conn.execute(sa.text(f"select count(*) from {table} where {where}")
                                ).scalar_one()

    def tracking_run_id(self, flow_run_id: str) -> str:
        """The id of the tracking database's run that a campaign flow run made."""
        with self.db.connect() as conn:
            return conn.execute(sa.text("select id from runs where flow_run_id = :id"),
                                {"id": flow_run_id}).scalar_one()


def _cli(args: list[str], env: dict[str, str], timeout: int = 300) -> str:
    done = subprocess.run([ADFORGE, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _environment(root: Path, webhook: WebhookRecorder) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADFORGE_"))}
    return env | {
        "PREFECT_HOME": str(root / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_WORKER_PREFETCH_SECONDS": "5",
        "ADFORGE_HOME": str(root / "state"),
        "ADFORGE_OUT_DIR": str(root / "outputs"),
        "ADFORGE_SCALE__GPU_SLOT": "always",  # classic backends take the GPU slot too
        "ADFORGE_NOTIFICATIONS__SLACK_WEBHOOK_URL": webhook.url,
    }


@pytest.fixture(scope="session")
def prefect_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("service")
    webhook = WebhookRecorder()
    env = _environment(root, webhook)
    state = service.ServiceState(root / "service")
    try:
        _cli(["server", "up", "--state-dir", str(state.folder), "--port", "0",
              "--gpu-workers", "2", "--cpu-workers", "1", "--worker-limit", "1"], env)
        api_url = state.api_url()
        assert api_url
        env["PREFECT_API_URL"] = api_url
        _cli(["deploy", "--state-dir", str(state.folder)], env)
        yield Service(api=PrefectAPI(api_url), api_url=api_url,
                      ui_url=api_url.removesuffix("/api"), root=root, state=state,
                      env=env, webhook=webhook)
    finally:
        subprocess.run([ADFORGE, "server", "down", "--state-dir", str(state.folder)],
                       env=env, capture_output=True, timeout=120)
        service.stop_all(state)  # anything `down` missed
        webhook.server.shutdown()


def write_campaign(folder: Path, kinds: tuple[str, ...]) -> tuple[Path, Path]:
    """Small sample photos (plain backdrops), a brief with one row per kind, and the demo
    brand kit."""
    return campaign_inputs.write_campaign(folder, kinds, size=384, backdrops=("plain",))


@pytest.fixture(scope="session")
def manual_run(prefect_service: Service) -> dict:
    """One campaign started through the manual deployment's API, waited for."""
    brief, brand = write_campaign(prefect_service.root / "manual", ("bottle",))
    response = prefect_service.api.create_run("brand-content/manual", {"request": {
        "brief_uri": str(brief), "brand_kit": str(brand), "platforms": ["blog_header"],
        "profile": "classic", "language": "any"}})
    assert response.status_code == 201, response.text
    return prefect_service.api.wait(response.json()["id"])


@pytest.fixture(scope="session")
def tiny_run(prefect_service: Service) -> str:
    """A finished tiny-profile campaign (one product, the Instagram post) started through
    the manual deployment; its tracking run id. `adforge models make-tiny` writes the
    tiny checkpoints under the workers' ADFORGE_HOME, where the tiny profile looks."""
    missing = [name for name in ("torch", "diffusers", "transformers")
               if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the tiny profile needs {', '.join(missing)}")
    _cli(["models", "make-tiny"], prefect_service.env)
    brief, brand = campaign_inputs.write_campaign(
        prefect_service.root / "tiny", ("bottle",), size=256, backdrops=("plain",),
        sku_prefix="TINY")
    response = prefect_service.api.create_run("brand-content/manual", {"request": {
        "brief_uri": str(brief), "brand_kit": str(brand), "platforms": ["instagram_post"],
        "profile": "tiny"}})
    assert response.status_code == 201, response.text
    finished = prefect_service.api.wait(response.json()["id"], timeout_s=600)
    assert finished["state_type"] == "COMPLETED", finished["state"]
    run_id = prefect_service.tracking_run_id(finished["id"])
    # random tiny weights lose the product: the gate stage cuts it out again with the
    # classic segmenter, and what still waits for review a person approves, so the
    # renditions flow has a finished product to add canvases to
    approve_if_held(prefect_service, run_id, "TINY-0", "instagram_post")
    return run_id


def approve_if_held(prefect_service: Service, run_id: str, sku: str, platform: str) -> None:
    """`adforge approve` for a canvas that waits for review (none waiting: nothing)."""
    pending = prefect_service.count(
        "reviews", f"run_id = '{run_id}' and sku = '{sku}' and platform = '{platform}' "
                   "and status = 'pending'")
    if pending:
        _cli(["approve", run_id, sku, "--platform", platform, "--by", "tests"],
             prefect_service.env)
