"""`adforge models make-tiny | plan | pull`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from adforge_app.cli import app
from models.memory_modes import GIB
from models.profiles import MODELS, memory_plan


def test_plan_fits_every_model_in_24_gib_and_keeps_them_resident_in_80():
    small = {row.key: row for row in memory_plan("gpu-24gb")}
    big = {row.key: row for row in memory_plan("gpu-80gb")}
    assert all(row.device_gib <= 24 for row in small.values())
    assert small["birefnet"].placement == "resident"
    assert small["flux"].placement in ("fp8", "nf4")
    assert big["flux"].placement == "resident" and big["qwen2vl"].placement == "resident"
    assert all(entry.footprint.weights > GIB // 4 for entry in MODELS)


def test_plan_prints_the_table_and_refuses_unknown_profiles():
    result = CliRunner().invoke(app, ["models", "plan", "--profile", "gpu-24gb"])
    assert result.exit_code == 0, result.output
    assert "black-forest-labs/FLUX.1-schnell" in result.output and "fp8" in result.output
    refused = CliRunner().invoke(app, ["models", "plan", "--profile", "gpu-8gb"])
    assert refused.exit_code == 2 and "no memory plan" in refused.output


def test_pull_offline_lists_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    result = CliRunner().invoke(app, ["models", "pull", "--profile", "gpu-24gb"])
    assert result.exit_code == 1
    assert "4 model(s) missing (HF_HUB_OFFLINE is set)" in result.output
    assert "- Qwen/Qwen-Image-Edit-2509" in result.output
    monkeypatch.setenv("ADFORGE_MODELS__QWEN2VL__SHARE_EDIT_TEXT_ENCODER", "true")
    shared = CliRunner().invoke(app, ["models", "pull", "--profile", "gpu-24gb"])
    assert "3 model(s) missing" in shared.output  # the edit model answers for Qwen2-VL
    assert "Qwen2-VL" not in shared.output


@pytest.mark.slow
def test_make_tiny_writes_all_four_checkpoints(tmp_path):
    pytest.importorskip("diffusers")
    result = CliRunner().invoke(app, ["models", "make-tiny", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for folder in ("tiny-birefnet", "tiny-flux", "tiny-qwen2vl", "tiny-qwen-image-edit-2509"):
        assert (tmp_path / folder).is_dir()
    index = json.loads((tmp_path / "tiny-flux" / "model_index.json").read_text())
    assert index["_class_name"] == "FluxPipeline"
    assert "ADFORGE_MODELS__QWEN_IMAGE_EDIT__SOURCE=" in result.output
