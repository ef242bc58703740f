"""Every CPU-possible placement applied to the tiny FLUX pipeline gives the same image."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from models.neural.memory_apply import apply_placement  # noqa: E402


def run(pipeline) -> np.ndarray:
    return pipeline("a cup", height=32, width=32, num_inference_steps=2, guidance_scale=0.0,
                    generator=torch.Generator("cpu").manual_seed(0), output_type="np",
                    max_sequence_length=32).images[0]


@pytest.mark.parametrize("placement,tolerance", [
    ("model_offload", 1e-6), ("group_offload", 1e-6), ("fp8", 0.1)])
def test_placements_keep_the_result(tiny_models, placement, tolerance):
    from diffusers import FluxPipeline

    reference = run(FluxPipeline.from_pretrained(tiny_models["flux"]).to("cpu"))
    pipeline = apply_placement(FluxPipeline.from_pretrained(tiny_models["flux"]), placement, "cpu",
                               torch.float32)
    placed = run(pipeline)
    assert np.abs(placed - reference).max() <= tolerance
    if placement == "fp8":
        block = pipeline.transformer.transformer_blocks[0]
        assert block.attn.to_q.weight.dtype == torch.float8_e4m3fn  # stored in fp8
