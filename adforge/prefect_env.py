"""Environment for Prefect's local mode, set before Prefect is first imported.

Without `PREFECT_API_URL`, each process starts a temporary local server on SQLite. On a
small machine its first start (migrations) can take longer than Prefect's default 20 s,
and the analytics call has no network to reach. Values already set by the user win.
"""

from __future__ import annotations

import os

LOCAL_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
}


def configure_prefect_environment() -> None:
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)


def uses_local_server() -> bool:
    return not os.environ.get("PREFECT_API_URL")
