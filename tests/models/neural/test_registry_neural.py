"""Neural backends are chosen by settings and never import torch before they are built."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from models.registry import FACTORIES


def test_importing_the_core_and_the_registry_imports_no_torch():
    code = ("import sys, adforge.settings, models.registry, models.tiny; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_birefnet_is_built_from_its_settings(tiny_birefnet, monkeypatch):
    monkeypatch.setenv("ADFORGE_MODELS__BIREFNET__SOURCE", str(tiny_birefnet))
    monkeypatch.setenv("ADFORGE_MODELS__BIREFNET__INPUT_SIZE", "64")
    segmenter = FACTORIES["segment"]["birefnet"]()
    assert (segmenter.source, segmenter.input_size) == (str(tiny_birefnet), 64)
    result = segmenter.segment(np.full((48, 48, 3), 128, np.uint8))
    assert result.rgba.shape == (48, 48, 4)


def test_flux_is_built_from_its_settings(monkeypatch):
    monkeypatch.setenv("ADFORGE_MODELS__FLUX__SOURCE", "/models/FLUX.1-dev")
    monkeypatch.setenv("ADFORGE_MODELS__FLUX__TRUE_CFG_SCALE", "3.5")
    generator = FACTORIES["background"]["flux"]()
    assert (generator.variant, generator.steps, generator.true_cfg_scale) == ("dev", 28, 3.5)


def test_a_bad_model_setting_is_refused_by_name(monkeypatch):
    from pydantic import ValidationError

    from adforge.settings import Settings

    monkeypatch.setenv("ADFORGE_MODELS__BIREFNET__INPUT_SIZE", "1000")
    with pytest.raises(ValidationError, match="input_size"):
        Settings()


def test_qwen2vl_and_qwen_image_edit_are_built_from_their_settings(monkeypatch):
    monkeypatch.setenv("ADFORGE_MODELS__QWEN2VL__MAX_PIXELS", str(512 * 28 * 28))
    monkeypatch.setenv("ADFORGE_MODELS__QWEN_IMAGE_EDIT__STEPS", "12")
    monkeypatch.setenv("ADFORGE_MODELS__QWEN_IMAGE_EDIT__MIN_PRODUCT_SSIM", "0.9")
    analyzer = FACTORIES["layout"]["qwen2-vl"]()
    renderer = FACTORIES["text"]["qwen-image-edit"]()
    assert analyzer.max_pixels == 512 * 28 * 28 and analyzer.fallback.name == "classic"
    assert (renderer.steps, renderer.kind, renderer.fallback.name) == (12, "edit-plus", "typeset")
    assert renderer.thresholds.min_product_ssim == 0.9


def test_the_text_encoder_is_shared_only_where_the_edit_pipeline_fits_beside_it():
    """Published sizes: beside a resident 16.6 GB encoder, the 41 GB edit pipeline fits
    an 80 GiB card, but on 24 GiB it needs nf4 or offload, which change the encoder."""
    from models.neural.factories import borrowing_fits
    from models.placement import GIB

    assert borrowing_fits("Qwen/Qwen-Image-Edit-2509", 80 * GIB)
    assert not borrowing_fits("Qwen/Qwen-Image-Edit-2509", 24 * GIB)


def test_neural_backends_ask_for_the_hosts_gpu_slot_only_on_cuda():
    torch = pytest.importorskip("torch")
    from models.neural.birefnet import BiRefNetSegmenter
    from models.neural.flux import FluxBackground
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer
    from models.neural.qwen_image_edit import QwenImageEditText

    for kind in (BiRefNetSegmenter, FluxBackground, Qwen2VLLayoutAnalyzer, QwenImageEditText):
        assert kind("x/y", device="cuda").needs_gpu
        assert not kind("x/y", device="cpu").needs_gpu
        assert kind("x/y").needs_gpu == torch.cuda.is_available()


def test_a_changed_model_setting_changes_the_stage_cache_key():
    """Stage results are keyed by a neural backend's settings too: new steps or other
    weights recompute instead of reusing what the old settings made."""
    from models.classic.background import ProceduralBackground
    from models.neural.flux import FluxBackground
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer
    from tasks.stages import cache_name

    four, again, eight = (FluxBackground("/models/FLUX.1-schnell"),
                          FluxBackground("/models/FLUX.1-schnell"),
                          FluxBackground("/models/FLUX.1-schnell", steps=8))
    assert cache_name(four) == cache_name(again) != cache_name(eight)
    assert cache_name(four).startswith("flux:")
    qwen2, shared = (Qwen2VLLayoutAnalyzer("/models/Qwen-Image-Edit-2509"),
                     Qwen2VLLayoutAnalyzer("/models/Qwen-Image-Edit-2509",
                                           from_edit_pipeline=True))
    assert cache_name(qwen2) != cache_name(shared)
    assert cache_name(ProceduralBackground()) == "procedural"
