"""Prefect's local mode: a temporary server gets no idle services; a real one keeps them."""

from __future__ import annotations

import pytest

from adforge import prefect_env, service


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


def test_adforge_server_up_turns_every_service_on_again() -> None:
    for name in prefect_env.SERVICE_SWITCHES:
        assert service.SERVER_ENV[name] == "true"
