"""Environment for Prefect's local mode, set before Prefect is first imported.

Without `PREFECT_API_URL`, each process starts a temporary local server on SQLite. On a
small machine its first start (migrations) can take longer than Prefect's default 20 s,
and the analytics call has no network to reach. That temporary server lives for one run
of one process, so its background services that serve deployments and automations
(scheduler, late runs, foreman, triggers...) have nothing to do there; they are turned off
to leave its CPU to the run (`adforge server up` turns them on again for a real server).
Flow-run heartbeats are off too: they let a server's automations mark a crashed run, and
the temporary server runs none; the engine also waits for its heartbeat thread, which
sleeps in whole seconds, at the end of every flow run (up to a second each).
Values already set by the user win.

The shell sets it (the `adforge` commands that run or serve flows); so does anything else
that runs flows itself (tests/conftest.py, benchmarks/pipeline.py). The workers that
`adforge server up` starts get it through `client_environment`. `use_server` points the
process at a running server (or away from one) first: `adforge run` uses the server of
`adforge server up` when one answers, and its `--local` forces the temporary server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

LOCAL_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
}
IDLE_IN_A_TEMPORARY_SERVER = ("SCHEDULER", "LATE_RUNS", "FOREMAN", "TRIGGERS",
                              "PAUSE_EXPIRATIONS", "REPOSSESSOR", "CANCELLATION_CLEANUP",
                              "CLEANUP_RECONCILER")
SERVICE_SWITCHES = [f"PREFECT_SERVER_SERVICES_{name}_ENABLED"
                    for name in IDLE_IN_A_TEMPORARY_SERVER]


def configure_prefect_environment() -> None:
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if uses_local_server():
        for name in SERVICE_SWITCHES:
            os.environ.setdefault(name, "false")
        if not any(name in os.environ for name in HEARTBEAT_SETTINGS):
            _no_flow_heartbeats()


HEARTBEAT_SETTINGS = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


def _no_flow_heartbeats() -> None:
    """"Off" is the setting's null, which no environment value spells, so it is set on
    Prefect's process-wide settings (after the environment above is in place)."""
    from prefect.context import GLOBAL_SETTINGS_CONTEXT

    GLOBAL_SETTINGS_CONTEXT.settings.flows.heartbeat_frequency = None


def uses_local_server() -> bool:
    return not os.environ.get("PREFECT_API_URL")


def use_server(api_url: str | None) -> bool:
    """Run this process's flows against the server at `api_url` (None: a temporary local
    server). Prefect reads its settings once, when first imported: after that the choice
    is made, nothing changes, and this returns False."""
    if "prefect" in sys.modules:
        return False
    if api_url is None:
        os.environ.pop("PREFECT_API_URL", None)
    else:
        os.environ["PREFECT_API_URL"] = api_url
    return True


def client_environment(api_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of a process that talks to the server at `api_url` and may run
    flows (a worker and the flow runs it starts): the defaults above where `base` lacks
    them, then that server and no analytics. With an API URL a process starts no temporary
    server, so the service switches and heartbeats are left as they are."""
    return LOCAL_DEFAULTS | dict(base) | {"PREFECT_API_URL": api_url,
                                          "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
