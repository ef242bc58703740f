"""How many Prefect task runs of each task a campaign's flow run made (tests only)."""

from __future__ import annotations

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
