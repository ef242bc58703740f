"""The neural backends as the settings describe them, each under the process's model
residency manager (`models.runtime`). The profile applies first: the tiny profile loads
every model from `models.tiny_root` with small working sizes.

Importing this module imports no torch; building a backend imports its own module.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from adforge.model_settings import ModelSettings
from models.placement import PLACEMENTS, Footprint

log = logging.getLogger(__name__)


def model_settings(profile: str | None = None) -> ModelSettings:
    """The model settings as `profile` (default: the process's) runs them."""
    settings = _settings(profile)
    return settings.models.for_profile(settings.profile)


def _settings(profile: str | None) -> Any:
    from adforge.settings import Settings

    return Settings(profile=profile) if profile else Settings()


def footprint(key: str, source: str) -> Footprint:
    """A local folder's weights, else the published model's (`models.profiles`)."""
    from models import runtime
    from models.profiles import MODELS

    return runtime.footprint_of_folder(source) or next(
        entry.footprint for entry in MODELS if entry.key == key)


def managed(backend: Any, key: str, source: str,
            placements: tuple[str, ...] = ("resident",)) -> Any:
    """Register the backend with the residency manager."""
    from models import runtime

    return runtime.manage(backend, source, footprint(key, source), placements=placements)


def birefnet(profile: str | None = None) -> Any:
    from models.neural.birefnet import BiRefNetSegmenter

    models = model_settings(profile)
    chosen = models.birefnet
    segmenter = BiRefNetSegmenter(chosen.source, device=models.device,
                                  half_on_gpu=chosen.half_on_gpu,
                                  input_size=chosen.input_size, batch_size=chosen.batch_size)
    return managed(segmenter, "birefnet", chosen.source)


def flux(profile: str | None = None) -> Any:
    from models.neural.flux import FluxBackground

    models = model_settings(profile)
    chosen = models.flux
    generator = FluxBackground(chosen.source, variant=chosen.variant, steps=chosen.steps,
                               guidance=chosen.guidance, true_cfg_scale=chosen.true_cfg_scale,
                               max_sequence_length=chosen.max_sequence_length,
                               template=chosen.template, batch_size=chosen.batch_size,
                               max_side=chosen.max_side, device=models.device)
    return managed(generator, "flux", chosen.source, PLACEMENTS)


def qwen2vl(fallback: Any, profile: str | None = None) -> Any:
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer

    models = model_settings(profile)
    chosen = models.qwen2vl
    shared = chosen.share_edit_text_encoder
    source = models.qwen_image_edit.source if shared else chosen.source
    analyzer = Qwen2VLLayoutAnalyzer(source, from_edit_pipeline=shared,
                                     min_pixels=chosen.min_pixels,
                                     max_pixels=chosen.max_pixels,
                                     max_new_tokens=chosen.max_new_tokens,
                                     retries=chosen.retries, device=models.device,
                                     fallback=fallback)
    if not shared:
        return managed(analyzer, "qwen2vl", source)
    from models import runtime

    return runtime.manage(analyzer, f"{source}/text_encoder", encoder_footprint(source))


def qwen_image_edit(fallback: Any, profile: str | None = None) -> Any:
    from models.neural.edit_check import EditThresholds
    from models.neural.qwen_image_edit import QwenImageEditText

    models = model_settings(profile)
    chosen = models.qwen_image_edit
    thresholds = EditThresholds(
        min_product_ssim=chosen.min_product_ssim,
        max_product_delta_e=chosen.max_product_delta_e,
        max_product_changed=chosen.max_product_changed,
        max_outside_delta_e=chosen.max_outside_delta_e,
        min_ocr_similarity=chosen.min_ocr_similarity)
    areas = (chosen.plus_vae_area, chosen.plus_condition_area) \
        if chosen.plus_vae_area and chosen.plus_condition_area else None
    lender = text_encoder_lender(models, profile)
    renderer = QwenImageEditText(chosen.source, kind=chosen.kind, steps=chosen.steps,
                                 true_cfg_scale=chosen.true_cfg_scale,
                                 negative_prompt=chosen.negative_prompt,
                                 attempts=chosen.attempts, thresholds=thresholds,
                                 fallback=fallback, work_side=chosen.work_side,
                                 plus_areas=areas, text_encoder_from=lender,
                                 device=models.device)
    if lender is None:
        return managed(renderer, "qwen_image_edit", chosen.source, PLACEMENTS)
    from models import runtime
    from models.neural.qwen_image_edit import SHARING_PLACEMENTS

    return runtime.manage(renderer, chosen.source, footprint_without_encoder(chosen.source),
                          placements=SHARING_PLACEMENTS, borrows_from=(lender,))


def text_encoder_lender(models: ModelSettings, profile: str | None = None) -> Any:
    """The layout analyzer whose loaded Qwen2.5-VL the edit pipeline borrows, or None:
    when the layout stage runs on the edit pipeline's text encoder, and the budget lets
    the pipeline run beside it resident or in fp8 (the placements that leave the encoder
    as it is; a 24 GiB card needs nf4 or offload instead)."""
    from models import runtime
    from models.registry import backend

    if _settings(profile).stage_backends().layout != "qwen2-vl" \
            or not models.qwen2vl.share_edit_text_encoder:
        return None
    if not borrowing_fits(models.qwen_image_edit.source, runtime.manager().budget_bytes):
        log.info("Qwen-Image-Edit loads its own text encoder: beside the shared one it "
                 "would need nf4 or offload, which change or move the encoder")
        return None
    return backend("layout", "qwen2-vl", profile)


def borrowing_fits(edit_source: str, budget_bytes: int) -> bool:
    """Whether the edit pipeline fits beside the resident encoder, resident or fp8."""
    from models.neural.qwen_image_edit import SHARING_PLACEMENTS
    from models.placement import NoPlacementError, choose_placement

    room = budget_bytes - encoder_footprint(edit_source).device_bytes("resident")
    try:
        choose_placement(footprint_without_encoder(edit_source), room, SHARING_PLACEMENTS)
    except NoPlacementError:
        return False
    return True


def encoder_footprint(edit_source: str) -> Footprint:
    """Qwen-Image-Edit's text encoder: its folder's weights, else the published size."""
    from models import runtime
    from models.profiles import EDIT_TEXT_ENCODER

    local = runtime.footprint_of_folder(f"{edit_source}/text_encoder",
                                        working=EDIT_TEXT_ENCODER.working)
    return local or EDIT_TEXT_ENCODER


def footprint_without_encoder(edit_source: str) -> Footprint:
    """The edit pipeline's own footprint when its text encoder is borrowed."""
    whole = footprint("qwen_image_edit", edit_source)
    return replace(whole, weights=whole.weights - encoder_footprint(edit_source).weights)
