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


def test_failed_edits_retry_with_new_seeds_then_typeset(tiny_qwen_image_edit,
                                                          small_edit_sizes):
    image, mask = composite()
    renderer = QwenImageEditText(str(tiny_qwen_image_edit), steps=1, attempts=2, seed=7)
    result = renderer.render(image, SPEC, COPY, default_brand_kit(), product_mask=mask)
    typeset = TypesetRenderer().render(image, SPEC, COPY, default_brand_kit())
    np.testing.assert_array_equal(result.image, typeset.image)
    attempts = renderer.last_attempts
    assert [(a.backend, a.seed, a.passed) for a in attempts] == [
        ("qwen-image-edit", 7, False), ("qwen-image-edit", 8, False), ("typeset", None, True)]
    assert all(a.failures and "product_ssim" in a.metrics for a in attempts[:2])
    assert [a["seed"] for a in result.attempts] == [7, 8, None]  # recorded with the asset


def test_a_passing_edit_is_the_result_at_the_composite_size(tiny_qwen_image_edit,
                                                             small_edit_sizes):
    image, mask = composite()
    renderer = QwenImageEditText(str(tiny_qwen_image_edit), steps=1, attempts=2,
                                 thresholds=LOOSE, ocr=lambda _: "Fresh every day Shop now")
    result = renderer.render(image, SPEC, COPY, default_brand_kit(), product_mask=mask)
    assert result.image.shape == image.shape and np.abs(result.image - image.astype(int)).max()
    assert len(renderer.last_attempts) == 1 and renderer.last_attempts[0].passed
    other_seed = renderer.edit(image, edit_prompt(SPEC, COPY, default_brand_kit()), seed=1)
    assert np.abs(other_seed.astype(int) - result.image).max() > 0


def test_the_original_edit_pipeline_loads_the_same_folder(tiny_qwen_image_edit):
    from diffusers import QwenImageEditPipeline

    renderer = QwenImageEditText(str(tiny_qwen_image_edit), kind="edit")
    renderer.load()
    assert type(renderer._pipeline) is QwenImageEditPipeline
    renderer.unload()
    assert not renderer.loaded


def test_true_cfg_without_a_negative_prompt_is_refused():
    with pytest.raises(ValueError, match="negative prompt"):
        QwenImageEditText(negative_prompt="")


def test_a_borrowed_text_encoder_is_the_layout_models_own(tiny_qwen_image_edit,
                                                          small_edit_sizes):
    """The layout analyzer on the edit pipeline's Qwen2.5-VL lends it: one model object."""
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer

    analyzer = Qwen2VLLayoutAnalyzer(str(tiny_qwen_image_edit), from_edit_pipeline=True,
                                     min_pixels=28 * 28, max_pixels=4 * 28 * 28,
                                     max_new_tokens=16)
    renderer = QwenImageEditText(str(tiny_qwen_image_edit), steps=1, attempts=1,
                                 thresholds=LOOSE, text_encoder_from=analyzer)
    image, mask = composite()
    renderer.render(image, SPEC, COPY, default_brand_kit(), product_mask=mask)
    assert type(analyzer.vl_model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert renderer._pipeline.text_encoder is analyzer.vl_model
    with pytest.raises(ValueError, match="not 'nf4'"):  # it would quantise the encoder
        renderer.load("nf4")
