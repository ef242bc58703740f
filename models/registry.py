"""Backend lookup: the stage backends named by a profile, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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


def _classic_layout() -> LayoutAnalyzer:
    from models.classic.layout import ClassicLayoutAnalyzer

    return ClassicLayoutAnalyzer()


def _typeset_text() -> TextRenderer:
    from models.classic.text import TypesetRenderer

    return TypesetRenderer()


FACTORIES = {
    "segment": {"classic": _classic_segmenter, "birefnet": _birefnet_segmenter},
    "background": {"procedural": _procedural_background},
    "layout": {"classic": _classic_layout},
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
