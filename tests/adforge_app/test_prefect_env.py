"""Prefect's local mode: a temporary server gets no idle services; a real one keeps them."""

from __future__ import annotations

import pytest

from adforge_app import prefect_env, service


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in [*prefect_env.LOCAL_DEFAULTS, *prefect_env.SERVICE_SWITCHES, "PREFECT_API_URL"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_temporary_server_runs_without_its_idle_services(clean_env) -> None:
    import os

    prefect_env.configure_prefect_environment()
    assert os.environ["PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED"] == "false"
    assert os.environ["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] == "false"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_a_user_setting_and_a_real_api_are_left_alone(clean_env) -> None:
    import os

    clean_env.setenv("PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED", "true")
    prefect_env.configure_prefect_environment()
    assert os.environ["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] == "true"
    clean_env.delenv("PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED")
    clean_env.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    prefect_env.configure_prefect_environment()
    assert "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED" not in os.environ


HEARTBEAT = """
from adforge_app.prefect_env import configure_prefect_environment
configure_prefect_environment()
from prefect.settings import get_current_settings
print(get_current_settings().flows.heartbeat_frequency)
"""


@pytest.mark.parametrize(("api_url", "expected"), [(None, "None"),
                                                    ("http://127.0.0.1:4200/api", "180")])
def test_flow_heartbeats_are_off_only_for_the_temporary_server(api_url, expected) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", *prefect_env.HEARTBEAT_SETTINGS)}
    env |= {"PREFECT_API_URL": api_url} if api_url else {}
    printed = subprocess.run([sys.executable, "-c", HEARTBEAT], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
    assert printed[-1] == expected


def test_adforge_server_up_turns_every_service_on_again() -> None:
    for name in prefect_env.SERVICE_SWITCHES:
        assert service.SERVER_ENV[name] == "true"


def test_workers_get_the_client_defaults_under_the_users_values() -> None:
    user = {"PREFECT_UI_ENABLED": "true", "PREFECT_SERVER_ANALYTICS_ENABLED": "true"}
    env = prefect_env.client_environment("http://127.0.0.1:4200/api", user)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    assert env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "180"
    assert env["PREFECT_UI_ENABLED"] == "true"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert not set(prefect_env.SERVICE_SWITCHES) & set(env)


class HealthServer:
    """A loopback HTTP server that answers `/api/health` with a chosen status."""

    def __init__(self, status: int) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(status if self.path == "/api/health" else 404)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def healthy_api():
    server = HealthServer(200)
    yield server.api_url
    server.server.shutdown()


def _record_server(home, api_url: str, pid: int) -> None:
    """What `adforge server up` leaves in `<home>/service/`: the address and the pid."""
    import json

    state = service.state_under(home)
    state.folder.mkdir(parents=True)
    state.info_file.write_text(json.dumps({"api_url": api_url, "server_pid": pid}))
    state.pid_file("server").write_text(str(pid))


def _ended_pid() -> int:
    import subprocess
    import sys

    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_a_recorded_live_answering_server_is_found(tmp_path, healthy_api) -> None:
    import os

    assert service.running_server_url(tmp_path) is None  # nothing recorded
    _record_server(tmp_path, healthy_api, os.getpid())
    assert service.running_server_url(tmp_path) == healthy_api


def test_a_stale_record_is_not_a_running_server(tmp_path, healthy_api) -> None:
    """The recorded process ended: whatever answers on its port now is not ours."""
    _record_server(tmp_path, healthy_api, _ended_pid())
    assert service.running_server_url(tmp_path) is None


def test_a_server_that_does_not_answer_healthy_is_not_used(tmp_path) -> None:
    import os

    unhealthy = HealthServer(503)
    try:
        _record_server(tmp_path, unhealthy.api_url, os.getpid())
        assert service.running_server_url(tmp_path) is None
    finally:
        unhealthy.server.shutdown()
    free = f"http://127.0.0.1:{service.free_port()}/api"  # nothing listens there
    service.state_under(tmp_path).info_file.write_text(f'{{"api_url": "{free}"}}')
    assert service.running_server_url(tmp_path) is None


def test_a_damaged_state_folder_is_no_server(tmp_path, healthy_api) -> None:
    import os

    _record_server(tmp_path, healthy_api, os.getpid())
    service.state_under(tmp_path).info_file.write_text("{not json")
    assert service.running_server_url(tmp_path) is None


USE_SERVER = """
from adforge_app.prefect_env import use_server
print(use_server("http://127.0.0.1:9/api"))
from prefect.settings import get_current_settings
print(get_current_settings().api.url)
print(use_server(None))
"""


def test_use_server_points_prefect_at_a_server_only_before_its_import() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    printed = subprocess.run([sys.executable, "-c", USE_SERVER], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
    assert printed[-3:] == ["True", "http://127.0.0.1:9/api", "False"]
