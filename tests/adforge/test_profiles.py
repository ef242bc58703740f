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
