"""Prefect runs as the tests look at them: a campaign's task runs, a paused flow run."""

from __future__ import annotations

import time

import sqlalchemy as sa


def count_task_runs(engine: sa.Engine, run_id: str) -> dict[str, int]:
    """Task runs of the tracking run's flow run, counted by task function name."""
    counts: dict[str, int] = {}
    for run in task_runs(engine, run_id):
        name = run.task_key.rsplit("-", 1)[0]  # the task function's name, then a hash
        counts[name] = counts.get(name, 0) + 1
    return counts


def task_runs(engine: sa.Engine, run_id: str) -> list:
    """The Prefect task runs of the tracking run's flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with engine.connect() as conn:
        flow_run_id = conn.execute(sa.text("select flow_run_id from runs where id = :run"),
                                   {"run": run_id}).scalar_one()
    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[flow_run_id])))


def paused_flow_run(timeout_s: float = 120.0) -> str:
    """The id of a flow run in the Paused state, once there is one (the tests' harness
    holds one campaign at a time)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateName,
    )

    paused = FlowRunFilter(state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Paused"])))
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            found = client.read_flow_runs(flow_run_filter=paused)
            if found:
                return str(found[0].id)
            time.sleep(0.5)
    raise AssertionError(f"no flow run paused within {timeout_s:.0f} s")
