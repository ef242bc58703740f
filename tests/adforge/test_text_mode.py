"""Who writes the copy: the brief row, else the brand kit, else the run (settings, then
the profile)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adforge.profiles import PROFILES, StageBackends
from adforge.settings import Settings, TextSettings
from adforge.text_mode import TEXT_MODES, resolve_text_mode


@pytest.mark.parametrize("row, kit, run, expected", [
    ("typeset", "edit", "edit", "typeset"),
    (None, "typeset", "edit", "typeset"),
    ("", "edit", "typeset", "edit"),
    (None, None, "edit", "edit"),
    ("", "", "typeset", "typeset"),
])
def test_the_most_specific_choice_wins(row: str | None, kit: str | None, run: str,
                                       expected: str) -> None:
    assert resolve_text_mode(row, kit, run) == expected


def test_an_unknown_mode_is_a_bug_and_is_refused() -> None:
    with pytest.raises(ValueError, match="use one of: edit, typeset"):
        resolve_text_mode(None, None, "paint")


def test_each_profile_has_a_default_mode() -> None:
    modes = {name: profile.text_mode for name, profile in PROFILES.items()}
    assert modes == {"classic": "typeset", "tiny": "edit", "gpu-24gb": "edit",
                     "gpu-80gb": "edit"}
    for name in PROFILES:
        assert Settings(profile=name).text_mode() == modes[name]


def test_settings_choose_over_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(profile="tiny", text=TextSettings(mode="typeset")).text_mode() == "typeset"
    monkeypatch.setenv("ADFORGE_TEXT__MODE", "edit")
    assert Settings(profile="classic").text_mode() == "edit"
    monkeypatch.setenv("ADFORGE_TEXT__MODE", "paint")
    with pytest.raises(ValidationError, match="text.mode"):
        Settings()


def test_a_backends_override_sets_the_default_by_its_text_backend() -> None:
    """The override replaces the profile's backends; only qwen-image-edit can edit."""
    typeset = Settings(profile="gpu-24gb", backends=StageBackends(text="typeset"))
    assert typeset.text_mode() == "typeset"
    edit = Settings(profile="classic", backends=StageBackends(text="qwen-image-edit"))
    assert edit.text_mode() == "edit"
    assert set(TEXT_MODES) == {"edit", "typeset"}
