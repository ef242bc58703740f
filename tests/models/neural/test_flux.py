"""FLUX backgrounds on a tiny random pipeline saved and loaded back offline."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("diffusers")

from adforge.brandkit import BUILTIN_STYLES  # noqa: E402
from models.contracts import BackgroundGenerator, BackgroundRequest  # noqa: E402
from models.neural.flux import (  # noqa: E402
    DEV_LICENCE,
    FluxBackground,
    build_prompt,
    native_aspect_size,
    round_size,
)


def request(width=40, height=56, seed=3, prompt="", negative="", style="ocean"):
    return BackgroundRequest(width=width, height=height, seed=seed, prompt=prompt,
                             negative_prompt=negative, style=BUILTIN_STYLES[style])


@pytest.fixture(scope="module")
def flux(tiny_models) -> FluxBackground:
    return FluxBackground(str(tiny_models["flux"]), steps=2, max_sequence_length=32, batch_size=2)


def test_schnell_is_the_default_with_its_own_settings():
    generator = FluxBackground()
    assert isinstance(generator, BackgroundGenerator) and generator.name == "flux"
    assert generator.restyles and generator.megapixels == 1.0
    assert generator.variant == "schnell"
    assert (generator.steps, generator.guidance) == (4, 0.0)


def test_choosing_dev_logs_its_non_commercial_licence(caplog):
    with caplog.at_level(logging.WARNING, logger="models.neural.flux"):
        generator = FluxBackground("black-forest-labs/FLUX.1-dev")
    assert (generator.variant, generator.steps, generator.guidance) == ("dev", 28, 3.5)
    assert DEV_LICENCE in caplog.text and "Non-Commercial" in caplog.text


def test_sizes_are_rounded_to_multiples_of_16():
    assert [round_size(v) for v in (1024, 1000, 1080, 7, 1350)] == [1024, 992, 1088, 16, 1344]
    call = FluxBackground().plan(request(width=640, height=480))
    assert (call.width, call.height) == (640, 480)  # smaller than 1 MP: its own size


def test_each_canvas_is_generated_at_its_own_aspect_at_about_one_megapixel():
    generator = FluxBackground()
    story = generator.generation_size(request(width=1080, height=1920))
    assert story == (768, 1360)
    assert abs(story[0] * story[1] / 1024 ** 2 - 1.0) < 0.01  # about 1 MP
    assert abs(story[0] / story[1] - 1080 / 1920) < 0.01  # the story's aspect
    assert generator.generation_size(request(width=1080, height=1080)) == (1024, 1024)
    header = generator.generation_size(request(width=1200, height=600))
    assert header == (1200, 608)  # under 1 MP: the canvas's own size, sides of 16
    bigger = FluxBackground(megapixels=2.0).generation_size(request(width=1080, height=1920))
    assert bigger == (1088, 1920)
    assert native_aspect_size(1080, 1920, max_side=64) == (32, 64)  # tiny models


def test_a_blog_header_is_generated_at_2_to_1_and_cover_cropped_to_its_size(tiny_models):
    """No square in between, no stretch: generated at the header's aspect, then scaled to
    cover exactly 1200x600 and the centre kept."""
    capped = FluxBackground(str(tiny_models["flux"]), steps=2, max_sequence_length=32,
                            max_side=64)
    header = request(width=1200, height=600)
    assert capped.generation_size(header) == (64, 32)
    call = capped.plan(header)
    assert (call.width, call.height) == (64, 32)
    image = capped.generate(header)
    assert image.shape == (600, 1200, 3) and image.dtype == np.uint8
    generated = capped._run(capped._pipeline, [call])[0]
    assert generated.shape == (32, 64, 3)  # 2:1, exactly the header's aspect
    from adforge.imaging.renditions import fit_background

    np.testing.assert_array_equal(image, fit_background(generated, 1200, 600))


def test_the_prompt_comes_from_the_template_the_row_and_the_style():
    row = build_prompt(request(prompt="marble kitchen counter"), "{prompt}, {style}, x")
    assert row == "marble kitchen counter, cool airy blue backdrop, morning light, x"
    styled = build_prompt(request(prompt=""), "{prompt}, {style}, x")
    assert styled == "cool airy blue backdrop, morning light, x"  # not said twice


def test_a_negative_prompt_is_used_only_through_true_cfg():
    plain = FluxBackground().plan(request(negative="text, watermark"))
    assert plain.negative_prompt is None and "negative_prompt" not in plain.pipeline_kwargs()
    cfg = FluxBackground(true_cfg_scale=4.0).plan(request(negative="text, watermark"))
    kwargs = cfg.pipeline_kwargs()
    assert kwargs["negative_prompt"] == "text, watermark" and kwargs["true_cfg_scale"] == 4.0


def test_generates_exactly_the_size_asked_for_and_is_seeded(flux):
    first = flux.generate(request(seed=3))
    assert first.shape == (56, 40, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, flux.generate(request(seed=3)))
    assert np.abs(first.astype(int) - flux.generate(request(seed=4))).max() > 0


def test_a_batch_equals_the_requests_one_by_one(flux):
    requests = [request(seed=1), request(seed=2), request(seed=5, width=64, height=32)]
    together = flux.generate_batch(requests)
    for image, one in zip(together, requests, strict=True):
        alone = flux.generate(one)
        assert image.shape == alone.shape
        assert np.abs(image.astype(int) - alone.astype(int)).max() <= 2


def test_true_cfg_with_a_negative_prompt_changes_the_image(tiny_models, flux):
    cfg = FluxBackground(str(tiny_models["flux"]), steps=2, max_sequence_length=32,
                         true_cfg_scale=4.0)
    plain = flux.generate(request(negative="text"))
    guided = cfg.generate(request(negative="text"))
    assert np.abs(plain.astype(int) - guided.astype(int)).max() > 0


def test_restyle_shares_the_weights_and_depends_on_strength(flux):
    backdrop = flux.generate(request(width=48, height=48))
    assert flux._image_to_image().transformer is flux._pipeline.transformer
    light = flux.restyle(backdrop, request(width=48, height=48), strength=0.5)
    heavy = flux.restyle(backdrop, request(width=48, height=48), strength=1.0)
    assert light.shape == heavy.shape == (48, 48, 3)
    assert np.abs(light.astype(int) - heavy.astype(int)).max() > 0
    np.testing.assert_array_equal(
        light, flux.restyle(backdrop, request(width=48, height=48), strength=0.5))
    with pytest.raises(ValueError, match="strength"):
        flux.restyle(backdrop, request(), strength=0.0)


def test_bad_settings_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="true_cfg_scale"):
        FluxBackground(true_cfg_scale=0.5)
    with pytest.raises(ValueError, match="template"):
        FluxBackground(template="{subject}")


def test_a_lighter_placement_gives_the_same_backdrop(tiny_models, flux):
    offloaded = FluxBackground(str(tiny_models["flux"]), steps=2, max_sequence_length=32)
    offloaded.load("group_offload")
    assert offloaded.placement == "group_offload"
    np.testing.assert_array_equal(offloaded.generate(request(seed=9)),
                                  flux.generate(request(seed=9)))
