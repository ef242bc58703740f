"""Deployments: `prefect.yaml` and the local `serve` entry (`deployments.serve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PREFECT_FILE = Path(__file__).resolve().with_name("prefect.yaml")
# The entrypoints in prefect.yaml ("flows/brand_content.py:...") are paths from here.
ENTRYPOINT_ROOT = PREFECT_FILE.parent.parent


def deployment_specs() -> list[dict[str, Any]]:
    """Every deployment of prefect.yaml, as written there (aliases resolved)."""
    return yaml.safe_load(PREFECT_FILE.read_text(encoding="utf-8"))["deployments"]
