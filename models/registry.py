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


def _classic_segmenter(profile: str | None = None) -> Segmenter:
    from models.classic.segment import ClassicSegmenter

    return ClassicSegmenter()


def _birefnet_segmenter(profile: str | None = None) -> Segmenter:
    from models.neural.factories import birefnet

    return birefnet(profile)


def _procedural_background(profile: str | None = None) -> BackgroundGenerator:
    from models.classic.background import ProceduralBackground

    return ProceduralBackground()


def _flux_background(profile: str | None = None) -> BackgroundGenerator:
    from models.neural.factories import flux

    return flux(profile)


def _classic_layout(profile: str | None = None) -> LayoutAnalyzer:
    from models.classic.layout import ClassicLayoutAnalyzer

    return ClassicLayoutAnalyzer()


def _qwen2vl_layout(profile: str | None = None) -> LayoutAnalyzer:
    from models.neural.factories import qwen2vl

    return qwen2vl(fallback=_classic_layout(), profile=profile)


def _typeset_text(profile: str | None = None) -> TextRenderer:
    from models.classic.text import TypesetRenderer

    return TypesetRenderer()


def _qwen_image_edit_text(profile: str | None = None) -> TextRenderer:
    from models.neural.factories import qwen_image_edit

    return qwen_image_edit(fallback=_typeset_text(), profile=profile)


FACTORIES: dict[str, dict[str, Callable[[str | None], Any]]] = {
    "segment": {"classic": _classic_segmenter, "birefnet": _birefnet_segmenter},
    "background": {"procedural": _procedural_background, "flux": _flux_background},
    "layout": {"classic": _classic_layout, "qwen2-vl": _qwen2vl_layout},
    "text": {"typeset": _typeset_text, "qwen-image-edit": _qwen_image_edit_text},
}


@cache
def backend(stage: str, name: str, profile: str | None = None):  # noqa: ANN201 - a protocol
    """The named backend for a stage, built on first use and kept for the process.
    profile: the run's (its model settings: the tiny profile's checkpoints, say);
    default: the process's `ADFORGE_PROFILE`."""
    choices = FACTORIES[stage]
    if name not in choices:
        raise ValueError(f"stage {stage!r} has no backend {name!r} in this build; "
                         f"use one of: {', '.join(choices)}")
    return choices[name](profile)


def stage_set(backends: StageBackends) -> StageSet:
    return StageSet(
        segmenter=backend("segment", backends.segment),
        background=backend("background", backends.background),
        layout=backend("layout", backends.layout),
        text=backend("text", backends.text),
    )
