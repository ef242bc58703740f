"""Backend lookup: a stage's named backend, built once per process for each model settings.

`backend(stage, name, models)` takes the `ModelSettings` as the run's profile resolved
them (`Settings.run_models`); it reads neither `Settings` nor the environment. The
classic backends need none of them (`models=None`: the defaults). Building imports the
backend's module only then: importing the registry imports no torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from adforge.model_settings import ModelSettings
from models.contracts import BackgroundGenerator, LayoutAnalyzer, Segmenter, TextRenderer


def _classic_segmenter(models: ModelSettings) -> Segmenter:
    from models.classic.segment import ClassicSegmenter

    return ClassicSegmenter()


def _birefnet_segmenter(models: ModelSettings) -> Segmenter:
    from models.neural.factories import birefnet

    return birefnet(models)


def _procedural_background(models: ModelSettings) -> BackgroundGenerator:
    from models.classic.background import ProceduralBackground

    return ProceduralBackground()


def _flux_background(models: ModelSettings) -> BackgroundGenerator:
    from models.neural.factories import flux

    return flux(models)


def _classic_layout(models: ModelSettings) -> LayoutAnalyzer:
    from models.classic.layout import ClassicLayoutAnalyzer

    return ClassicLayoutAnalyzer()


def _qwen2vl_layout(models: ModelSettings) -> LayoutAnalyzer:
    from models.neural.factories import qwen2vl

    return qwen2vl(models, fallback=_classic_layout(models))


def _typeset_text(models: ModelSettings) -> TextRenderer:
    from models.classic.text import TypesetRenderer

    return TypesetRenderer()


def _qwen_image_edit_text(models: ModelSettings) -> TextRenderer:
    """The edit renderer; where it borrows the layout analyzer's text encoder, that
    analyzer is the one this registry builds (and keeps) for the layout stage."""
    from models.neural.factories import borrows_text_encoder, qwen_image_edit

    lender = backend("layout", "qwen2-vl", models) if borrows_text_encoder(models) else None
    return qwen_image_edit(models, fallback=_typeset_text(models), lender=lender)


FACTORIES: dict[str, dict[str, Callable[[ModelSettings], Any]]] = {
    "segment": {"classic": _classic_segmenter, "birefnet": _birefnet_segmenter},
    "background": {"procedural": _procedural_background, "flux": _flux_background},
    "layout": {"classic": _classic_layout, "qwen2-vl": _qwen2vl_layout},
    "text": {"typeset": _typeset_text, "qwen-image-edit": _qwen_image_edit_text},
}
_building = threading.RLock()  # one build per key, even from concurrent tasks


def backend(stage: str, name: str, models: ModelSettings | None = None):  # noqa: ANN201 - a protocol
    """The named backend for a stage, built on first use and kept for the process, one
    per (stage, name, model settings). models: the run's (`Settings.run_models`);
    None: `ModelSettings()`'s defaults, enough for the classic backends."""
    choices = FACTORIES[stage]
    if name not in choices:
        raise ValueError(f"stage {stage!r} has no backend {name!r} in this build; "
                         f"use one of: {', '.join(choices)}")
    with _building:
        return _built(stage, name, (models or ModelSettings()).model_dump_json())


@cache
def _built(stage: str, name: str, models_json: str) -> Any:
    return FACTORIES[stage][name](ModelSettings.model_validate_json(models_json))
