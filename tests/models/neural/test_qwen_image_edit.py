"""Qwen-Image-Edit text on a tiny random pipeline: verification, seeds, fallback."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")

from adforge.brandkit import default_brand_kit  # noqa: E402
from adforge.specs import AdCopy, Box, LayoutSpec, TextBox, TextRole  # noqa: E402
from models.classic.text import TypesetRenderer  # noqa: E402
from models.contracts import TextRenderer  # noqa: E402
from models.neural.edit_check import EditThresholds  # noqa: E402
from models.neural.qwen_image_edit import (  # noqa: E402
    QwenImageEditText,
    edit_prompt,
    pipeline_kind,
)

SPEC = LayoutSpec(boxes=[
    TextBox(role=TextRole.headline, box=Box(x=0.05, y=0.05, w=0.6, h=0.2), color="#111111",
            size_hint=0.08),
    TextBox(role=TextRole.cta, box=Box(x=0.05, y=0.3, w=0.3, h=0.1), color="#FFFFFF",
            size_hint=0.05, fill="#E4572E")])
COPY = AdCopy(headline="Fresh every day", cta="Shop now", language="en")
LOOSE = EditThresholds(min_product_ssim=-1.0, max_product_delta_e=1e3,
                       max_outside_delta_e=1e3, max_product_changed=1.0)
TINY_AREAS = (64 * 64, 56 * 56)  # the Plus pipeline's VAE and condition image areas


def composite() -> tuple[np.ndarray, np.ndarray]:
    image = np.full((64, 64, 3), 230, np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[36:60, 36:60] = True
    image[mask] = (170, 50, 40)
    return image, mask


def test_the_prompt_quotes_the_exact_copy_with_places_and_colours():
    prompt = edit_prompt(SPEC, COPY, default_brand_kit())
    assert 'headline "Fresh every day" in the top centre (x 5%-65%, y 5%-25%)' in prompt
    assert '"Shop now"' in prompt and "#E4572E" in prompt and "#FFFFFF" in prompt
    assert "do not change the product" in prompt


def test_the_2509_and_2511_weights_take_the_plus_pipeline():
    assert pipeline_kind("Qwen/Qwen-Image-Edit") == "edit"
    assert pipeline_kind("Qwen/Qwen-Image-Edit-2509") == "edit-plus"
    assert pipeline_kind("/models/Qwen-Image-Edit-2511/") == "edit-plus"
    renderer = QwenImageEditText()
    assert isinstance(renderer, TextRenderer)
    assert (renderer.steps, renderer.true_cfg_scale, renderer.negative_prompt) == (40, 4.0, " ")


def test_failed_edits_retry_with_new_seeds_then_typeset(tiny_models):
    image, mask = composite()
    renderer = QwenImageEditText(str(tiny_models["qwen_image_edit"]), steps=1, attempts=2,
                                 seed=7, plus_areas=TINY_AREAS)
    result = renderer.render(image, SPEC, COPY, default_brand_kit(), product_mask=mask)
    typeset = TypesetRenderer().render(image, SPEC, COPY, default_brand_kit())
    np.testing.assert_array_equal(result.image, typeset.image)
    attempts = result.attempts  # recorded with the asset
    assert [(a["backend"], a["seed"], a["passed"]) for a in attempts] == [
        ("qwen-image-edit", 7, False), ("qwen-image-edit", 8, False), ("typeset", None, True)]
    assert all(a["failures"] and "product_ssim" in a["metrics"] for a in attempts[:2])


def test_a_passing_edit_is_the_result_at_the_composite_size(tiny_models):
    image, mask = composite()
    renderer = QwenImageEditText(str(tiny_models["qwen_image_edit"]), steps=1, attempts=2,
                                 thresholds=LOOSE, ocr=lambda _: "Fresh every day Shop now",
                                 plus_areas=TINY_AREAS)
    result = renderer.render(image, SPEC, COPY, default_brand_kit(), product_mask=mask)
    assert result.image.shape == image.shape and np.abs(result.image - image.astype(int)).max()
    assert len(result.attempts) == 1 and result.attempts[0]["passed"]
    other_seed = renderer.edit(image, edit_prompt(SPEC, COPY, default_brand_kit()), seed=1)
    assert np.abs(other_seed.astype(int) - result.image).max() > 0


def test_the_plus_areas_are_call_arguments_not_module_constants(tiny_models, monkeypatch):
    """The edit computes what diffusers' own pipeline computes with its module constants
    set to the areas, and leaves the constants as they are (other pipelines share them)."""
    import diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus as plus
    from PIL import Image

    from models import runtime

    defaults = (plus.VAE_IMAGE_SIZE, plus.CONDITION_IMAGE_SIZE)
    renderer = QwenImageEditText(str(tiny_models["qwen_image_edit"]), steps=1,
                                 plus_areas=TINY_AREAS)
    image, _ = composite()
    prompt = edit_prompt(SPEC, COPY, default_brand_kit())
    edited = renderer.edit(image, prompt, seed=3)
    assert (plus.VAE_IMAGE_SIZE, plus.CONDITION_IMAGE_SIZE) == defaults
    monkeypatch.setattr(plus, "VAE_IMAGE_SIZE", TINY_AREAS[0])
    monkeypatch.setattr(plus, "CONDITION_IMAGE_SIZE", TINY_AREAS[1])
    pipeline = renderer._pipeline

    def diffusers_own(**kwargs):
        return plus.QwenImageEditPlusPipeline.__call__(pipeline, **kwargs)

    reference = runtime.run_pipeline(diffusers_own, 3, image=Image.fromarray(image),
                                     prompt=prompt, negative_prompt=" ", true_cfg_scale=4.0,
                                     num_inference_steps=1, height=64, width=64)[0]
    np.testing.assert_array_equal(edited, reference)


def test_the_original_edit_pipeline_loads_the_same_folder(tiny_models):
    from diffusers import QwenImageEditPipeline

    renderer = QwenImageEditText(str(tiny_models["qwen_image_edit"]), kind="edit")
    renderer.load()
    assert type(renderer._pipeline) is QwenImageEditPipeline
    renderer.unload()
    assert not renderer.loaded


def test_true_cfg_without_a_negative_prompt_is_refused():
    with pytest.raises(ValueError, match="negative prompt"):
        QwenImageEditText(negative_prompt="")


def test_a_borrowed_text_encoder_is_the_layout_models_own(tiny_models):
    """The layout analyzer on the edit pipeline's Qwen2.5-VL lends it: one model object."""
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer

    folder = str(tiny_models["qwen_image_edit"])
    analyzer = Qwen2VLLayoutAnalyzer(folder, from_edit_pipeline=True, min_pixels=28 * 28,
                                     max_pixels=4 * 28 * 28, max_new_tokens=16)
    renderer = QwenImageEditText(folder, steps=1, attempts=1, thresholds=LOOSE,
                                 text_encoder_from=analyzer, plus_areas=TINY_AREAS)
    image, mask = composite()
    renderer.render(image, SPEC, COPY, default_brand_kit(), product_mask=mask)
    assert type(analyzer.vl_model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert renderer._pipeline.text_encoder is analyzer.vl_model
    with pytest.raises(ValueError, match="not 'nf4'"):  # it would quantise the encoder
        renderer.load("nf4")


def test_a_distilled_lora_loads_through_diffusers_and_changes_the_edit(tiny_models):
    """The tiny LoRA (`adforge models make-tiny` writes it) goes in through diffusers'
    `load_lora_weights`, as the Lightning file would: the pipeline has the adapter, the
    edit differs from the same seed without it, and repeats itself."""
    from models.tiny import LORA_KEY

    image, _ = composite()
    prompt = edit_prompt(SPEC, COPY, default_brand_kit())
    folder, lora = str(tiny_models["qwen_image_edit"]), tiny_models[LORA_KEY]
    plain = QwenImageEditText(folder, steps=2, true_cfg_scale=1.0, plus_areas=TINY_AREAS)
    distilled = QwenImageEditText(folder, steps=2, true_cfg_scale=1.0, plus_areas=TINY_AREAS,
                                  lora=str(lora.parent), lora_weight_name=lora.name)
    with_lora = distilled.edit(image, prompt, seed=5)
    assert distilled._pipeline.get_list_adapters() == {"transformer": ["distilled"]}
    assert plain.edit(image, prompt, seed=5).shape == with_lora.shape == image.shape
    assert np.abs(plain.edit(image, prompt, seed=5).astype(int) - with_lora).max() > 0
    np.testing.assert_array_equal(with_lora, distilled.edit(image, prompt, seed=5))
    stronger = QwenImageEditText(folder, steps=2, true_cfg_scale=1.0, plus_areas=TINY_AREAS,
                                 lora=str(lora), lora_scale=2.0)  # the file itself
    assert np.abs(stronger.edit(image, prompt, seed=5).astype(int) - with_lora).max() > 0


def test_the_lora_recipe_runs_without_cfg_and_is_in_the_cache_key(tiny_models):
    """Settings with a LoRA build the distilled recipe (its steps, CFG off, no negative
    prompt), and the LoRA is part of what the stage cache keys on."""
    from adforge.model_settings import ModelSettings, QwenImageEditSettings
    from models.neural.factories import qwen_image_edit
    from models.tiny import LORA_KEY

    lora = str(tiny_models[LORA_KEY])
    chosen = QwenImageEditSettings(source="/models/Qwen-Image-Edit-2509", lora=lora,
                                   lora_steps=8)
    renderer = qwen_image_edit(ModelSettings(qwen_image_edit=chosen), fallback=None)
    assert (renderer.steps, renderer.true_cfg_scale, renderer.lora) == (8, 1.0, lora)
    assert renderer._guidance_options() == {"true_cfg_scale": 1.0}
    full = QwenImageEditText("/models/Qwen-Image-Edit-2509")
    lightning = QwenImageEditText("/models/Qwen-Image-Edit-2509", steps=8,
                                  true_cfg_scale=1.0, lora="lightx2v/Qwen-Image-Lightning")
    other = QwenImageEditText("/models/Qwen-Image-Edit-2509", steps=8, true_cfg_scale=1.0,
                              lora="lightx2v/Qwen-Image-Lightning", lora_weight_name="x")
    assert len({full.cache_key, lightning.cache_key, other.cache_key}) == 3
    assert QwenImageEditSettings(lora="none").lora is None  # an environment can say off
