"""`adforge serve`: every deployment of prefect.yaml served from one process, with no
server or worker needed. The caller sets Prefect's environment before importing this."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from deployments import deployment_specs


def load_flow(entrypoint: str) -> Any:
    """The flow that an entrypoint such as "flows/brand_content.py:brand_content" names."""
    module, name = entrypoint.split(":")
    return getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), name)


def runner_deployment(spec: dict[str, Any]) -> RunnerDeployment:
    """One deployment of prefect.yaml as this process serves it (its work pool unused)."""
    schedules = [Cron(s["cron"], timezone=s.get("timezone")) for s in spec.get("schedules", [])]
    return load_flow(spec["entrypoint"]).to_deployment(
        name=spec["name"], parameters=spec.get("parameters") or {},
        description=spec.get("description"), tags=spec.get("tags"),
        schedules=schedules, enforce_parameter_schema=True)


def serve_all(announce: Callable[[int], None] = lambda count: None) -> None:
    """Serve every deployment until interrupted; `announce` hears how many first."""
    served = [runner_deployment(spec) for spec in deployment_specs()]
    announce(len(served))
    serve(*served)
