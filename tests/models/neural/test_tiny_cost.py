"""Cost and resources on the tiny profile: each model's load goes to the stage that
loaded it (the same seconds as its model_events row), and on a GPU the stages that run
a model have GPU seconds and a peak; on a CPU they have none."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.models.neural.test_tiny_profile_flow import write_tiny_campaign

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
MODEL_STAGES = {"segment", "background", "layout", "text"}  # birefnet, flux, qwen2vl, edit


def _query(env: Path, query: str, run_id: str) -> list[sa.Row]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as connection:
        return list(connection.execute(sa.text(query), {"run": run_id}))


def test_model_loads_and_gpu_time_go_to_the_stages_that_ran_the_models(tiny_env: Path) -> None:
    import torch

    from flows.brand_content import brand_content

    brief, brand = write_tiny_campaign(tiny_env / "in", 2)
    result = brand_content(brief=str(brief), brand=str(brand))
    assert result["status"] == "completed", result.get("failed")

    rows = _query(tiny_env, "select stage, load_s, gpu_s, gpu_peak_bytes from stage_metrics "
                            "where run_id = :run", result["run_id"])
    load_s: dict[str, float] = defaultdict(float)
    for stage, load, _, _ in rows:
        load_s[stage] += load
    assert {stage for stage, seconds in load_s.items() if seconds > 0} == MODEL_STAGES
    (loaded,) = _query(tiny_env, "select sum(seconds) from model_events where run_id = :run "
                                 "and action = 'load'", result["run_id"])[0]
    assert sum(load_s.values()) == pytest.approx(loaded)
    on_gpu = torch.cuda.is_available()
    for stage, _, gpu_s, peak in rows:
        if on_gpu and stage in MODEL_STAGES:
            assert gpu_s > 0 and peak > 0, (stage, gpu_s, peak)
        elif not on_gpu:
            assert gpu_s == 0 and peak is None, (stage, gpu_s, peak)
