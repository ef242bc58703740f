"""The neural backends as the settings describe them, each under the process's model
residency manager (`models.runtime`). The profile applies first: the tiny profile loads
every model from `models.tiny_root` with small working sizes.

Importing this module imports no torch; building a backend imports its own module.
"""

from __future__ import annotations

from typing import Any

from adforge.model_settings import ModelSettings
from models.placement import PLACEMENTS


def model_settings() -> ModelSettings:
    from adforge.settings import Settings

    settings = Settings()
    return settings.models.for_profile(settings.profile)


def managed(backend: Any, key: str, source: str,
            placements: tuple[str, ...] = ("resident",)) -> Any:
    """Register the backend with the residency manager: footprint from a local folder's
    weights, else the published model's (`models.profiles`)."""
    from models import runtime
    from models.profiles import MODELS

    footprint = runtime.footprint_of_folder(source) or next(
        entry.footprint for entry in MODELS if entry.key == key)
    return runtime.manage(backend, source, footprint, placements=placements)


def birefnet() -> Any:
    from models.neural.birefnet import BiRefNetSegmenter

    models = model_settings()
    chosen = models.birefnet
    segmenter = BiRefNetSegmenter(chosen.source, device=models.device,
                                  half_on_gpu=chosen.half_on_gpu,
                                  input_size=chosen.input_size, batch_size=chosen.batch_size)
    return managed(segmenter, "birefnet", chosen.source)


def flux() -> Any:
    from models.neural.flux import FluxBackground

    models = model_settings()
    chosen = models.flux
    generator = FluxBackground(chosen.source, variant=chosen.variant, steps=chosen.steps,
                               guidance=chosen.guidance, true_cfg_scale=chosen.true_cfg_scale,
                               max_sequence_length=chosen.max_sequence_length,
                               template=chosen.template, batch_size=chosen.batch_size,
                               max_side=chosen.max_side, device=models.device)
    return managed(generator, "flux", chosen.source, PLACEMENTS)


def qwen2vl(fallback: Any) -> Any:
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer

    models = model_settings()
    chosen = models.qwen2vl
    analyzer = Qwen2VLLayoutAnalyzer(chosen.source, min_pixels=chosen.min_pixels,
                                     max_pixels=chosen.max_pixels,
                                     max_new_tokens=chosen.max_new_tokens,
                                     retries=chosen.retries, device=models.device,
                                     fallback=fallback)
    return managed(analyzer, "qwen2vl", chosen.source)


def qwen_image_edit(fallback: Any) -> Any:
    from models.neural.edit_check import EditThresholds
    from models.neural.qwen_image_edit import QwenImageEditText

    models = model_settings()
    chosen = models.qwen_image_edit
    thresholds = EditThresholds(
        min_product_ssim=chosen.min_product_ssim,
        max_product_delta_e=chosen.max_product_delta_e,
        max_product_changed=chosen.max_product_changed,
        max_outside_delta_e=chosen.max_outside_delta_e,
        min_ocr_similarity=chosen.min_ocr_similarity)
    areas = (chosen.plus_vae_area, chosen.plus_condition_area) \
        if chosen.plus_vae_area and chosen.plus_condition_area else None
    renderer = QwenImageEditText(chosen.source, kind=chosen.kind, steps=chosen.steps,
                                 true_cfg_scale=chosen.true_cfg_scale,
                                 negative_prompt=chosen.negative_prompt,
                                 attempts=chosen.attempts, thresholds=thresholds,
                                 fallback=fallback, work_side=chosen.work_side,
                                 plus_areas=areas, device=models.device)
    return managed(renderer, "qwen_image_edit", chosen.source, PLACEMENTS)
