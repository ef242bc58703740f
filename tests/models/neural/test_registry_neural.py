"""Neural backends are built from the model settings passed to them (no environment),
and never import torch before they are built."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from adforge.model_settings import (
    BiRefNetSettings,
    FluxSettings,
    ModelSettings,
    Qwen2VLSettings,
    QwenImageEditSettings,
)
from adforge.settings import Settings
from models.memory_modes import GIB, PLACEMENTS
from models.neural.factories import borrowing_fits
from models.registry import backend


def test_importing_the_core_and_the_registry_imports_no_torch():
    code = ("import sys, adforge.settings, models.registry, models.tiny; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_birefnet_is_built_from_its_settings(tiny_models):
    tiny_birefnet = tiny_models["birefnet"]
    models = ModelSettings(birefnet=BiRefNetSettings(source=str(tiny_birefnet), input_size=64))
    segmenter = backend("segment", "birefnet", models)
    assert (segmenter.source, segmenter.input_size) == (str(tiny_birefnet), 64)
    assert backend("segment", "birefnet", models) is segmenter  # built once per settings
    result = segmenter.segment(np.full((48, 48, 3), 128, np.uint8))
    assert result.rgba.shape == (48, 48, 4)


def test_flux_is_built_from_its_settings():
    models = ModelSettings(flux=FluxSettings(source="/models/FLUX.1-dev", true_cfg_scale=3.5))
    generator = backend("background", "flux", models)
    assert (generator.variant, generator.steps, generator.true_cfg_scale) == ("dev", 28, 3.5)
    assert generator.residency[0].is_registered(generator.residency[1])


def test_a_bad_model_setting_is_refused_by_name():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="input_size"):
        Settings(models={"birefnet": {"input_size": 1000}})


def test_qwen2vl_and_qwen_image_edit_are_built_from_their_settings():
    models = ModelSettings(qwen2vl=Qwen2VLSettings(max_pixels=512 * 28 * 28),
                           qwen_image_edit=QwenImageEditSettings(steps=12,
                                                                 min_product_ssim=0.9))
    analyzer = backend("layout", "qwen2-vl", models)
    renderer = backend("text", "qwen-image-edit", models)
    assert analyzer.max_pixels == 512 * 28 * 28 and analyzer.fallback.name == "classic"
    assert (renderer.steps, renderer.kind, renderer.fallback.name) == (12, "edit-plus", "typeset")
    assert renderer.thresholds.min_product_ssim == 0.9
    assert renderer.text_encoder_from is None  # sharing is off by default


def test_the_run_settings_carry_the_profiles_budget_placements_and_tiny_models(tmp_path):
    """What a builder needs comes with the model settings: no profile name, no
    environment (`Settings.run_models`, from the one profile table)."""
    big = Settings(profile="gpu-80gb").run_models()
    assert (big.budget_gib, big.memory_placements) == (80.0, ("resident", "model_offload"))
    assert big.budget_bytes(on_gpu=True) == 80 * GIB
    assert Settings(profile="gpu-24gb").run_models().memory_placements == PLACEMENTS
    own = Settings(profile="gpu-80gb", models={"budget_gib": 70}).run_models()
    assert own.budget_gib == 70 and own.budget_bytes(on_gpu=False) == 8 * GIB
    tiny = Settings(profile="tiny", models={"tiny_root": str(tmp_path),
                                            "flux": {"steps": 3}}).run_models()
    assert tiny.flux.source == str(tmp_path / "tiny-flux") and tiny.flux.max_side == 64
    assert tiny.flux.steps == 3  # set explicitly: the profile leaves it
    assert tiny.for_profile("tiny") == tiny
    with pytest.raises(ValueError, match="make-tiny"):
        Settings(profile="tiny", home=tmp_path / "empty").run_models()


def test_the_24_gib_profile_edits_with_the_lightning_lora_unless_told_not_to(monkeypatch):
    """gpu-24gb: the 2509 8-step LoRA, 8 steps without CFG (it fits beside nf4 weights);
    `lora=none` brings back the 40-step CFG recipe; gpu-80gb keeps the full recipe."""
    from models.profiles import memory_plan

    edit = Settings(profile="gpu-24gb").run_models().qwen_image_edit
    assert edit.lora == "lightx2v/Qwen-Image-Lightning"
    assert edit.lora_weight_name == "Qwen-Image-Edit-2509-Lightning-8steps-V1.0-bf16.safetensors"
    assert edit.recipe() == (8, 1.0)
    text = {row.key: row for row in memory_plan("gpu-24gb")}["qwen_image_edit"]
    assert text.placement == "nf4" and text.device_gib <= 24 and "LoRA" in text.source
    without = {row.key: row for row in memory_plan("gpu-24gb", ModelSettings(
        qwen_image_edit={"lora": None}).for_profile("gpu-24gb"))}["qwen_image_edit"]
    assert 0.7 < text.device_gib - without.device_gib < 0.9  # the LoRA's 0.85 GB
    monkeypatch.setenv("ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA", "none")
    assert Settings(profile="gpu-24gb").run_models().qwen_image_edit.recipe() == (40, 4.0)
    assert Settings(profile="gpu-80gb").run_models().qwen_image_edit.lora is None


def test_the_text_encoder_is_shared_only_where_the_layout_stage_runs_qwen2vl():
    shared = {"qwen2vl": {"share_edit_text_encoder": True}}
    assert Settings(profile="gpu-80gb", models=shared).run_models() \
        .qwen2vl.share_edit_text_encoder
    classic_layout = Settings(profile="gpu-80gb", models=shared,
                              backends={"layout": "classic", "text": "qwen-image-edit"})
    assert not classic_layout.run_models().qwen2vl.share_edit_text_encoder


def test_the_edit_pipeline_borrows_the_registrys_layout_analyzer(tiny_models):
    """The registry builds the lender through itself and hands it over: the edit
    pipeline's text encoder is the layout stage's own analyzer (tiny weights fit any
    budget beside it)."""
    models = ModelSettings(qwen2vl=Qwen2VLSettings(share_edit_text_encoder=True),
                           qwen_image_edit=QwenImageEditSettings(
                               source=str(tiny_models["qwen_image_edit"])))
    renderer = backend("text", "qwen-image-edit", models)
    analyzer = backend("layout", "qwen2-vl", models)
    assert renderer.text_encoder_from is analyzer and analyzer.from_edit_pipeline


def test_the_text_encoder_is_shared_only_where_the_edit_pipeline_fits_beside_it():
    """Published sizes: beside a resident 16.6 GB encoder, the 41 GB edit pipeline fits
    an 80 GiB card, but on 24 GiB it needs nf4 or offload, which change the encoder."""
    assert borrowing_fits("Qwen/Qwen-Image-Edit-2509", 80 * GIB)
    assert borrowing_fits("Qwen/Qwen-Image-Edit-2509", 80 * GIB, ("resident",))
    assert not borrowing_fits("Qwen/Qwen-Image-Edit-2509", 24 * GIB)
    assert not borrowing_fits("Qwen/Qwen-Image-Edit-2509", 80 * GIB, ())


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

    four, again, eight = (FluxBackground("/models/FLUX.1-schnell"),
                          FluxBackground("/models/FLUX.1-schnell"),
                          FluxBackground("/models/FLUX.1-schnell", steps=8))
    assert four.cache_key == again.cache_key != eight.cache_key
    assert four.cache_key.startswith("flux:")
    qwen2, shared = (Qwen2VLLayoutAnalyzer("/models/Qwen-Image-Edit-2509"),
                     Qwen2VLLayoutAnalyzer("/models/Qwen-Image-Edit-2509",
                                           from_edit_pipeline=True))
    assert qwen2.cache_key != shared.cache_key
    assert ProceduralBackground().cache_key == "procedural"


def test_every_backend_declares_what_the_tasks_plan_with():
    """cache_key, batch_size, batches, needs_gpu (and a text renderer's
    needs_product_mask) are plain attributes: nothing is probed with hasattr."""
    from models.neural.birefnet import BiRefNetSegmenter
    from models.neural.flux import FluxBackground
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer
    from models.neural.qwen_image_edit import QwenImageEditText

    neural = {"segment": BiRefNetSegmenter("x/y", batch_size=4, device="cpu"),
              "background": FluxBackground("x/y", batch_size=2, device="cpu"),
              "layout": Qwen2VLLayoutAnalyzer("x/y", device="cpu"),
              "text": QwenImageEditText("x/y", device="cpu")}
    declared = {stage: (one.batches, one.batch_size, one.needs_gpu)
                for stage, one in neural.items()}
    assert declared == {"segment": (True, 4, False), "background": (True, 2, False),
                        "layout": (False, 1, False), "text": (False, 1, False)}
    assert neural["text"].needs_product_mask
    for stage, name in (("segment", "classic"), ("background", "procedural"),
                        ("layout", "classic"), ("text", "typeset")):
        classic = backend(stage, name)
        assert (classic.cache_key, classic.batches, classic.batch_size,
                classic.needs_gpu) == (name, False, 1, False)
    assert backend("text", "typeset").needs_product_mask is False
    assert hasattr(neural["segment"], "segment_batch")
    assert hasattr(neural["background"], "generate_batch")
