"""A small REST client for the test server (plain httpx: no process-global Prefect state)."""

from __future__ import annotations

import time
from typing import Any

import httpx

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
RETRYABLE = {429, 503}  # the server's "try again" (503: its SQLite database was busy)


class RetryingTransport(httpx.HTTPTransport):
    """Retries what the server marks retryable, with backoff, as Prefect's own client
    does; on a loaded machine the server's SQLite is sometimes briefly locked, and a GET
    (safe to repeat) may go unanswered past the client's timeout, so it is asked again."""

    def __init__(self, attempts: int = 8) -> None:
        super().__init__()
        self.attempts = attempts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(self.attempts - 1):
            try:
                response = super().handle_request(request)
            except httpx.TimeoutException:
                if request.method != "GET":
                    raise
            else:
                if response.status_code not in RETRYABLE:
                    return response
                response.close()
            time.sleep(min(0.5 * 2 ** attempt, 8.0))
        return super().handle_request(request)  # the last attempt's answer, whatever it is


class PrefectAPI:
    def __init__(self, api_url: str) -> None:
        self.url = api_url
        self.http = httpx.Client(base_url=api_url, timeout=30, transport=RetryingTransport())

    def deployment(self, name: str) -> dict[str, Any]:
        response = self.http.get(f"/deployments/name/{name}")
        response.raise_for_status()
        return response.json()

    def create_run(self, deployment: str, parameters: dict[str, Any]) -> httpx.Response:
        deployment_id = self.deployment(deployment)["id"]
        return self.http.post(f"/deployments/{deployment_id}/create_flow_run",
                              json={"parameters": parameters})

    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        response = self.http.get(f"/flow_runs/{flow_run_id}")
        response.raise_for_status()
        return response.json()

    def wait(self, flow_run_id: str, timeout_s: float = 180) -> dict[str, Any]:
        """Poll until the run is final (a hang fails the test; this is no timing assert)."""
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.flow_run(flow_run_id)
            if run["state_type"] in FINAL:
                return run
            assert time.monotonic() < deadline, f"run {run['name']} still {run['state_name']}"
            time.sleep(1)

    def wait_for_workers(self, pool: str, count: int, timeout_s: float = 120) -> None:
        """Poll until `count` workers of the pool are online (they start with the
        service, a few seconds apart on a loaded machine)."""
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.http.post(f"/work_pools/{pool}/workers/filter", json={})
            response.raise_for_status()
            online = [w for w in response.json() if w.get("status") == "ONLINE"]
            if len(online) >= count:
                return
            assert time.monotonic() < deadline, f"{len(online)} of {count} {pool} workers online"
            time.sleep(1)

    def runs_of(self, deployment_id: str, states: list[str] | None = None) -> list[dict]:
        flow_runs: dict[str, Any] = {"deployment_id": {"any_": [deployment_id]}}
        if states:
            flow_runs["state"] = {"type": {"any_": states}}
        response = self.http.post("/flow_runs/filter", json={"flow_runs": flow_runs})
        response.raise_for_status()
        return response.json()

    def subflow_runs(self, flow_run_id: str) -> list[dict]:
        """The flow runs started inside that one (`run_deployment` links them to it)."""
        response = self.http.post("/flow_runs/filter", json={"flow_runs": {
            "parent_flow_run_id": {"any_": [flow_run_id]}}})
        response.raise_for_status()
        return response.json()

    def artifacts(self, flow_run_id: str) -> list[dict[str, Any]]:
        response = self.http.post("/artifacts/filter", json={
            "artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})
        response.raise_for_status()
        return response.json()

    def add_schedule(self, deployment_id: str, schedule: dict[str, Any],
                     parameters: dict[str, Any]) -> str:
        response = self.http.post(f"/deployments/{deployment_id}/schedules", json=[
            {"schedule": schedule, "active": True, "parameters": parameters}])
        response.raise_for_status()
        return response.json()[0]["id"]

    def remove_schedule(self, deployment_id: str, schedule_id: str) -> None:
        self.http.delete(f"/deployments/{deployment_id}/schedules/{schedule_id}")
        for run in self.runs_of(deployment_id, ["SCHEDULED"]):
            self.http.delete(f"/flow_runs/{run['id']}")

    def concurrency_limit(self, name: str) -> httpx.Response:
        return self.http.get(f"/v2/concurrency_limits/{name}")
