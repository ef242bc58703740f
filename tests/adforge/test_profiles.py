"""The one profile table: every profile name it accepts is in it, and each part of the
settings reads it."""

from __future__ import annotations

from typing import get_args

import pytest

from adforge.model_settings import ModelSettings
from adforge.profiles import MEMORY_PLACEMENTS, PROFILES, ProfileName, profile_named
from adforge.settings import Settings


def test_the_table_has_every_profile_name_settings_accept():
    assert tuple(PROFILES) == get_args(ProfileName)
    for profile in PROFILES.values():
        assert set(profile.memory_placements) <= set(MEMORY_PLACEMENTS)
        assert profile.description


def test_settings_take_stage_backends_budget_and_placements_from_the_table():
    for name, profile in PROFILES.items():
        settings = Settings(profile=name, models=ModelSettings(tiny_root="/tiny"))
        assert settings.stage_backends() == profile.backends
        models = settings.run_models()
        assert models.budget_gib == profile.budget_gib
        assert models.memory_placements == profile.memory_placements


def test_an_unknown_profile_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="use one of classic, tiny"):
        profile_named("gpu-8gb")
    with pytest.raises(ValueError, match="use one of classic"):
        ModelSettings().for_profile("gpu-8gb")


def test_the_tiny_profile_finds_its_checkpoints_under_the_home(tmp_path):
    """Without `tiny_root`, where `adforge models make-tiny` writes by default; an explicit
    root still wins; nothing there: refused with what to run."""
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    found = ModelSettings().for_profile("tiny", home=tmp_path)
    assert found.tiny_root == tmp_path / "models" / "tiny"
    assert found.birefnet.source == str(tmp_path / "models" / "tiny" / "tiny-birefnet")
    explicit = ModelSettings(tiny_root="/tiny").for_profile("tiny", home=tmp_path)
    assert explicit.flux.source == "/tiny/tiny-flux"
    with pytest.raises(ValueError, match="run `adforge models make-tiny`"):
        ModelSettings().for_profile("tiny", home=tmp_path / "elsewhere")
    assert Settings(profile="tiny", home=tmp_path).run_models().tiny_root == found.tiny_root


def test_the_24_gib_profile_runs_text_edits_with_the_8_step_lora():
    edit = ModelSettings().for_profile("gpu-24gb").qwen_image_edit
    assert "2509" in edit.lora_weight_name and "8steps" in edit.lora_weight_name
    assert edit.recipe() == (8, 1.0)
    assert ModelSettings().for_profile("gpu-80gb").qwen_image_edit.recipe() == (40, 4.0)
