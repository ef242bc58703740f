"""Backend lookup: the stage backends named by a profile, built once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from adforge.settings import StageBackends
from models.contracts import BackgroundGenerator, LayoutAnalyzer, Segmenter, TextRenderer


@dataclass(frozen=True)
class StageSet:
    segmenter: Segmenter
    background: BackgroundGenerator
    layout: LayoutAnalyzer
    text: TextRenderer


def _classic_segmenter() -> Segmenter:
    from models.classic.segment import ClassicSegmenter

    return ClassicSegmenter()


def _birefnet_segmenter() -> Segmenter:
    from adforge.settings import Settings
    from models.neural.birefnet import BiRefNetSegmenter

    models = Settings().models
    chosen = models.birefnet
    return BiRefNetSegmenter(chosen.source, device=models.device,
                             half_on_gpu=chosen.half_on_gpu, input_size=chosen.input_size,
                             batch_size=chosen.batch_size)


def _procedural_background() -> BackgroundGenerator:
    from models.classic.background import ProceduralBackground

    return ProceduralBackground()


def _flux_background() -> BackgroundGenerator:
    from adforge.settings import Settings
    from models.neural.flux import FluxBackground

    models = Settings().models
    chosen = models.flux
    return FluxBackground(chosen.source, variant=chosen.variant, steps=chosen.steps,
                          guidance=chosen.guidance, true_cfg_scale=chosen.true_cfg_scale,
                          template=chosen.template, batch_size=chosen.batch_size,
                          device=models.device)


def _classic_layout() -> LayoutAnalyzer:
    from models.classic.layout import ClassicLayoutAnalyzer

    return ClassicLayoutAnalyzer()


def _qwen2vl_layout() -> LayoutAnalyzer:
    from adforge.settings import Settings
    from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer

    models = Settings().models
    chosen = models.qwen2vl
    return Qwen2VLLayoutAnalyzer(chosen.source, min_pixels=chosen.min_pixels,
                                 max_pixels=chosen.max_pixels,
                                 max_new_tokens=chosen.max_new_tokens, retries=chosen.retries,
                                 device=models.device, fallback=_classic_layout())


def _typeset_text() -> TextRenderer:
    from models.classic.text import TypesetRenderer

    return TypesetRenderer()


FACTORIES: dict[str, dict[str, Callable[[], Any]]] = {
    "segment": {"classic": _classic_segmenter, "birefnet": _birefnet_segmenter},
    "background": {"procedural": _procedural_background, "flux": _flux_background},
    "layout": {"classic": _classic_layout, "qwen2-vl": _qwen2vl_layout},
    "text": {"typeset": _typeset_text},
}


@cache
def backend(stage: str, name: str):  # noqa: ANN201 - one of the four protocols
    """The named backend for a stage, built on first use and kept for the process."""
    choices = FACTORIES[stage]
    if name not in choices:
        raise ValueError(f"stage {stage!r} has no backend {name!r} in this build; "
                         f"use one of: {', '.join(choices)}")
    return choices[name]()


def stage_set(backends: StageBackends) -> StageSet:
    return StageSet(
        segmenter=backend("segment", backends.segment),
        background=backend("background", backends.background),
        layout=backend("layout", backends.layout),
        text=backend("text", backends.text),
    )
