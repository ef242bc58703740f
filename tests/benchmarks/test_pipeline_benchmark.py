"""The pipeline benchmark runs end to end on a tiny brief and prints its one JSON object
(numbers are not asserted: timings belong to the benchmark, not to the tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_benchmark_prints_every_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADFORGE_"))}
    env |= {"PYTHONPATH": str(ROOT), "PREFECT_HOME": str(tmp_path / "prefect")}
    done = subprocess.run([sys.executable, "benchmarks/pipeline.py", "--products", "2",
                           "--repeats", "1", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("products_per_minute_prefect", "products_per_minute_loop", "overhead_ratio",
                "server_start_s", "peak_rss_mb"):
        assert result[key] > 0, key
    assert set(result["stage_ms"]) == {"segment", "background", "composite", "layout",
                                       "text", "gate", "publish"}
    assert len(result["ratio_per_repeat"]) == 1
