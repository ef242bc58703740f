"""Environment for Prefect's local mode, set before Prefect is first imported.

Without `PREFECT_API_URL`, each process starts a temporary local server on SQLite. On a
small machine its first start (migrations) can take longer than Prefect's default 20 s,
and the analytics call has no network to reach. That temporary server lives for one run
of one process, so its background services that serve deployments and automations
(scheduler, late runs, foreman, triggers...) have nothing to do there; they are turned off
to leave its CPU to the run (`adforge server up` turns them on again for a real server).
Values already set by the user win.
"""

from __future__ import annotations

import os

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


def uses_local_server() -> bool:
    return not os.environ.get("PREFECT_API_URL")
