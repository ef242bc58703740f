"""The neural backends as their model settings describe them, each under the process's
model residency manager (`models.runtime`).

Every factory takes the `ModelSettings` as the run's profile resolved them
(`Settings.run_models`: sources, working sizes, memory budget and placements), so no
factory needs the profile's name or reads the environment. The registry
(`models.registry`) calls them and hands the edit pipeline its text-encoder lender.

Importing this module imports no torch; building a backend imports its own module.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from adforge.model_settings import ModelSettings, QwenImageEditSettings
from models import runtime
from models.memory_modes import Footprint, NoPlacementError, choose_placement

log = logging.getLogger(__name__)
RESIDENT_ONLY = ("resident",)  # the models small enough never to be placed otherwise


def footprint(key: str, source: str) -> Footprint:
    """A local folder's weights, else the published model's (`models.profiles`)."""
    from models.profiles import MODELS

    return runtime.footprint_of_folder(source) or next(
        entry.footprint for entry in MODELS if entry.key == key)


def budget_of(models: ModelSettings) -> int:
    """The residency budget these settings give the process's manager (on first use)."""
    return models.budget_bytes(runtime.on_gpu())


def managed(backend: Any, key: str, source: str, models: ModelSettings,
            placements: tuple[str, ...] = RESIDENT_ONLY) -> Any:
    """Register the backend with the residency manager."""
    return runtime.manage(backend, source, footprint(key, source), placements=placements,
                          budget_bytes=budget_of(models))


def birefnet(models: ModelSettings) -> Any:
    from models.neural.birefnet import BiRefNetSegmenter

    chosen = models.birefnet
    segmenter = BiRefNetSegmenter(chosen.source, device=models.device,
                                  half_on_gpu=chosen.half_on_gpu,
                                  input_size=chosen.input_size, batch_size=chosen.batch_size)
    return managed(segmenter, "birefnet", chosen.source, models)


def flux(models: ModelSettings) -> Any:
    from models.neural.flux import FluxBackground

    chosen = models.flux
    generator = FluxBackground(chosen.source, variant=chosen.variant, steps=chosen.steps,
                               guidance=chosen.guidance, true_cfg_scale=chosen.true_cfg_scale,
                               max_sequence_length=chosen.max_sequence_length,
                               template=chosen.template, batch_size=chosen.batch_size,
                               megapixels=chosen.megapixels, max_side=chosen.max_side,
                               device=models.device)
    return managed(generator, "flux", chosen.source, models, models.memory_placements)


def qwen2vl(models: ModelSettings, fallback: Any) -> Any:
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer

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
        return managed(analyzer, "qwen2vl", source, models)
    return runtime.manage(analyzer, f"{source}/text_encoder", encoder_footprint(source),
                          budget_bytes=budget_of(models))


def qwen_image_edit(models: ModelSettings, fallback: Any, lender: Any = None) -> Any:
    """lender: the layout analyzer whose loaded Qwen2.5-VL this pipeline borrows as its
    text encoder (see `borrows_text_encoder`), or None: it loads its own."""
    from models.neural.edit_check import EditThresholds
    from models.neural.qwen_image_edit import QwenImageEditText

    chosen = models.qwen_image_edit
    thresholds = EditThresholds(
        min_product_ssim=chosen.min_product_ssim,
        max_product_delta_e=chosen.max_product_delta_e,
        max_product_changed=chosen.max_product_changed,
        max_outside_delta_e=chosen.max_outside_delta_e,
        min_ocr_similarity=chosen.min_ocr_similarity)
    areas = (chosen.plus_vae_area, chosen.plus_condition_area) \
        if chosen.plus_vae_area and chosen.plus_condition_area else None
    steps, true_cfg_scale = chosen.recipe()  # a distilled LoRA: its few steps, no CFG
    renderer = QwenImageEditText(chosen.source, kind=chosen.kind, steps=steps,
                                 true_cfg_scale=true_cfg_scale,
                                 negative_prompt=chosen.negative_prompt,
                                 attempts=chosen.attempts, thresholds=thresholds,
                                 fallback=fallback, work_side=chosen.work_side,
                                 plus_areas=areas, text_encoder_from=lender,
                                 lora=chosen.lora, lora_weight_name=chosen.lora_weight_name,
                                 lora_scale=chosen.lora_scale, device=models.device)
    if lender is None:
        whole = with_lora(footprint("qwen_image_edit", chosen.source), chosen)
        return runtime.manage(renderer, chosen.source, whole,
                              placements=models.memory_placements,
                              budget_bytes=budget_of(models))
    return runtime.manage(renderer, chosen.source,
                          with_lora(footprint_without_encoder(chosen.source), chosen),
                          placements=sharing_placements(models), borrows_from=(lender,),
                          budget_bytes=budget_of(models))


def with_lora(base: Footprint, chosen: QwenImageEditSettings) -> Footprint:
    """The edit pipeline's footprint with its LoRA, if any (`models.profiles.with_adapter`:
    a local file's size, else the published Lightning LoRA's)."""
    from models.profiles import LIGHTNING_LORA_BYTES, with_adapter

    if not chosen.lora:
        return base
    return with_adapter(base, _local_lora_bytes(chosen) or LIGHTNING_LORA_BYTES)


def _local_lora_bytes(chosen: QwenImageEditSettings) -> int | None:
    """The size of a LoRA on local disk: the file given, or its weight file in the folder
    given (None: a hub id, or not there)."""
    path = Path(chosen.lora or "")
    if path.is_dir() and chosen.lora_weight_name:
        path = path / chosen.lora_weight_name
    return path.stat().st_size if path.is_file() else None


def borrows_text_encoder(models: ModelSettings) -> bool:
    """Whether the edit pipeline borrows the layout analyzer's loaded Qwen2.5-VL: when the
    layout stage runs on the edit pipeline's text encoder (`share_edit_text_encoder`,
    which `Settings.run_models` keeps only where the layout stage is qwen2-vl), and the
    budget lets the pipeline run beside it in a placement that leaves the encoder as it
    is (resident or fp8; a 24 GiB card needs nf4 or offload instead)."""
    if not models.qwen2vl.share_edit_text_encoder:
        return False
    budget = runtime.manager(budget_of(models)).budget_bytes
    if not borrowing_fits(models.qwen_image_edit.source, budget, sharing_placements(models)):
        log.info("Qwen-Image-Edit loads its own text encoder: beside the shared one it "
                 "would need nf4 or offload, which change or move the encoder")
        return False
    return True


def sharing_placements(models: ModelSettings) -> tuple[str, ...]:
    """The edit pipeline's placements beside a borrowed encoder that the profile allows."""
    from models.neural.qwen_image_edit import SHARING_PLACEMENTS

    return tuple(p for p in SHARING_PLACEMENTS if p in models.memory_placements)


def borrowing_fits(edit_source: str, budget_bytes: int,
                   placements: tuple[str, ...] | None = None) -> bool:
    """Whether the edit pipeline fits beside the resident encoder in one of `placements`
    (default: every placement that leaves the encoder as it is, resident or fp8)."""
    from models.neural.qwen_image_edit import SHARING_PLACEMENTS

    allowed = SHARING_PLACEMENTS if placements is None else placements
    if not allowed:
        return False
    room = budget_bytes - encoder_footprint(edit_source).device_bytes("resident")
    try:
        choose_placement(footprint_without_encoder(edit_source), room, allowed)
    except NoPlacementError:
        return False
    return True


def encoder_footprint(edit_source: str) -> Footprint:
    """Qwen-Image-Edit's text encoder: its folder's weights, else the published size."""
    from models.profiles import EDIT_TEXT_ENCODER

    local = runtime.footprint_of_folder(f"{edit_source}/text_encoder",
                                        working=EDIT_TEXT_ENCODER.working)
    return local or EDIT_TEXT_ENCODER


def footprint_without_encoder(edit_source: str) -> Footprint:
    """The edit pipeline's own footprint when its text encoder is borrowed."""
    whole = footprint("qwen_image_edit", edit_source)
    return replace(whole, weights=whole.weights - encoder_footprint(edit_source).weights)
