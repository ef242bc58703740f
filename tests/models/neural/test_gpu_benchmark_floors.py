"""The full-size benchmark's dry run: arguments, plan and compute floors, on CPU."""

from __future__ import annotations

import json

import pytest

from benchmarks.gpu_full_size import main
from models.compute_floors import flux_flops, transformer_pass


def test_dry_run_prints_every_stage_with_its_plan_and_floor(capsys):
    assert main(["--dry-run", "--json", "--batch", "6"]) == 0
    report = json.loads(capsys.readouterr().out)
    stages = {row["stage"]: row for row in report["floors"]}
    assert list(stages) == ["segment", "background", "layout", "text"]
    assert stages["background"]["placement_24gb"] == "fp8"
    assert all(row["floor_s"] > 0 for row in stages.values())
    assert report["batch"] == 6


def test_the_flux_floor_is_below_the_published_h100_time():
    one_call = transformer_pass(11.9e9, 64 * 64 + 512, 57, 3072) / 800e12
    assert 0.1 < one_call < 0.49  # published: one bf16 transformer call, about 0.49 s
    assert flux_flops(1024, 1024, 28, 512, cfg=False) > 6 * flux_flops(1024, 1024, 4, 256,
                                                                       cfg=False)
    assert flux_flops(1024, 1024, 4, 256, cfg=True) > 1.9 * flux_flops(1024, 1024, 4, 256,
                                                                       cfg=False)


def test_full_scale_without_cuda_says_what_it_needs(capsys):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here: the full run would start")
    assert main([]) == 2
    assert "CUDA" in capsys.readouterr().err
