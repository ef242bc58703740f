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
