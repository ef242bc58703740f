"""Neural backends are chosen by settings and never import torch before they are built."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from models.registry import FACTORIES


def test_importing_the_core_and_the_registry_imports_no_torch():
    code = ("import sys, adforge.settings, models.registry, models.tiny; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_birefnet_is_built_from_its_settings(tiny_birefnet, monkeypatch):
    monkeypatch.setenv("ADFORGE_MODELS__BIREFNET__SOURCE", str(tiny_birefnet))
    monkeypatch.setenv("ADFORGE_MODELS__BIREFNET__INPUT_SIZE", "64")
    segmenter = FACTORIES["segment"]["birefnet"]()
    assert (segmenter.source, segmenter.input_size) == (str(tiny_birefnet), 64)
    result = segmenter.segment(np.full((48, 48, 3), 128, np.uint8))
    assert result.rgba.shape == (48, 48, 4)


def test_flux_is_built_from_its_settings(monkeypatch):
    monkeypatch.setenv("ADFORGE_MODELS__FLUX__SOURCE", "/models/FLUX.1-dev")
    monkeypatch.setenv("ADFORGE_MODELS__FLUX__TRUE_CFG_SCALE", "3.5")
    generator = FACTORIES["background"]["flux"]()
    assert (generator.variant, generator.steps, generator.true_cfg_scale) == ("dev", 28, 3.5)


def test_a_bad_model_setting_is_refused_by_name(monkeypatch):
    from pydantic import ValidationError

    from adforge.settings import Settings

    monkeypatch.setenv("ADFORGE_MODELS__BIREFNET__INPUT_SIZE", "1000")
    with pytest.raises(ValidationError, match="input_size"):
        Settings()
