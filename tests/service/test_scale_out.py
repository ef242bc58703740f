"""Scale-out: a brief above the chunk size is split into chunk runs on the GPU pool."""

from __future__ import annotations

import re
import socket
import subprocess

import pytest

from tests.service.conftest import ADFORGE, Service, write_campaign

pytestmark = pytest.mark.slow


def test_two_workers_share_a_chunked_brief(prefect_service: Service) -> None:
    brief, brand = write_campaign(prefect_service.root / "chunked", ("box", "mug"))
    env = prefect_service.env | {"ADFORGE_SCALE__CHUNK_SIZE": "1"}
    prefect_service.api.wait_for_workers("adforge-gpu", 2)  # both can take a chunk
    done = subprocess.run([ADFORGE, "run", str(brief), "--brand", str(brand),
                           "--platforms", "blog_thumbnail"],
                          env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed" in done.stdout and "2 products" in done.stdout

    chunk = prefect_service.api.deployment("brand-content/chunk")
    runs = prefect_service.api.runs_of(chunk["id"])
    assert sorted(r["parameters"]["skus"][0] for r in runs) == ["HB-GIFTBOX-02", "HB-MUG-04"]
    assert all(r["state_type"] == "COMPLETED" for r in runs)
    workers = _workers_that_ran(prefect_service, [r["id"] for r in runs])
    assert workers == {"adforge-gpu-worker-1", "adforge-gpu-worker-2"}
    for run in runs:
        assert prefect_service.count(
            "runs", f"flow_run_id = '{run['id']}' and status = 'completed'") == 1


def test_gpu_sections_took_the_per_host_slot(prefect_service: Service, manual_run: dict) -> None:
    response = prefect_service.api.concurrency_limit(f"gpu-{socket.gethostname()}")
    assert response.status_code == 200, response.text
    limit = response.json()
    assert limit["limit"] == 1
    assert limit["active_slots"] == 0  # every holder released it


def _workers_that_ran(prefect_service: Service, flow_run_ids: list[str]) -> set[str]:
    """Which GPU workers' logs say they submitted one of these flow runs."""
    ran = set()
    for log in prefect_service.state.folder.glob("adforge-gpu-worker-*.log"):
        text = log.read_text(errors="replace")
        if any(re.search(flow_run_id, text) for flow_run_id in flow_run_ids):
            ran.add(log.stem)
    return ran
