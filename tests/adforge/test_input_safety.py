"""The pure parts of the hostile-input defences (the whole runs: tests/hostile)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from adforge.brief_read import decode_csv_text
from adforge.errors import BriefError, PreflightError, SettingsError, font_package_hint
from adforge.imaging.logo import key_plain_ground
from adforge.preflight import check_database_url, check_platforms
from adforge.settings import env_variable, load_settings, redact_url
from adforge.sources import local_file_problem, outside_root_problem, resolve_local


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://user:S3CRET@db:5432/x", "postgresql+psycopg://user:***@db:5432/x"),
    ("sqlite:///state/adforge.db", "sqlite:///state/adforge.db"),
    ("not a url with a:S3CRET@host", "***"),
])
def test_connection_strings_are_shown_without_their_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_an_invalid_setting_names_its_variable_and_hides_a_password(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADFORGE_IMAGES__MAX_PIXELS", "abc")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "ADFORGE_IMAGES__MAX_PIXELS=abc" in str(caught.value)
    assert env_variable(("scale", "products_per_task")) == "ADFORGE_SCALE__PRODUCTS_PER_TASK"


def test_a_bad_database_url_is_refused_redacted() -> None:
    with pytest.raises(PreflightError) as caught:
        check_database_url("nonsense://u:S3CRET@h/x")
    assert "S3CRET" not in str(caught.value) and "u:***@" in str(caught.value)


def test_unknown_platforms_are_refused_together() -> None:
    with pytest.raises(PreflightError) as caught:
        check_platforms(["blog_header", "tiktok", "9x9"])
    assert "'tiktok'" in str(caught.value) and "'9x9'" in str(caught.value)


def test_paths_resolve_inside_their_root_or_say_why(tmp_path: Path) -> None:
    root = tmp_path / "brief"
    (root / "photos").mkdir(parents=True)
    (root / "photos" / "out.png").symlink_to(tmp_path / "secret.png")
    assert outside_root_problem(resolve_local("photos/a.png", root), root, what="x") is None
    for value in ("../secret.png", "photos/out.png", "/etc/hostname", "~/x.png"):
        problem = outside_root_problem(resolve_local(value, root), root, what="the folder")
        assert problem is not None and "outside the folder" in problem, value


def test_only_regular_files_within_the_cap_pass(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "big").write_bytes(b"x" * 2000)
    assert "FIFO" in str(local_file_problem(tmp_path / "pipe"))
    assert "character device" in str(local_file_problem(Path("/dev/null")))
    assert "ADFORGE_IMAGES__MAX_BYTES" in str(local_file_problem(tmp_path / "big", 1000))
    assert local_file_problem(tmp_path / "big", 5000) is None


def test_csv_encodings_are_guessed_only_when_western() -> None:
    assert decode_csv_text("Café".encode(), "b.csv") == ("Café", [])
    text, notes = decode_csv_text("Café crème".encode("cp1252"), "b.csv")
    assert text == "Café crème" and "Windows-1252" in notes[0]
    with pytest.raises(BriefError):
        decode_csv_text("안녕하세요".encode("cp949"), "b.csv")


def test_a_logo_on_a_plain_ground_is_keyed_and_a_busy_one_is_not() -> None:
    logo = np.full((40, 120, 3), 255, np.uint8)
    logo[10:30, 20:100] = (30, 60, 120)
    keyed = key_plain_ground(logo)
    assert keyed is not None and keyed[0, 0, 3] == 0 and keyed[20, 60, 3] == 255
    noise = np.random.default_rng(0).integers(0, 255, (40, 120, 3), dtype=np.uint8)
    assert key_plain_ground(noise) is None


@pytest.mark.parametrize("characters, package", [
    ("한", "fonts-noto-cjk"), ("ก", "fonts-thai-tlwg"), ("🦄", "fonts-noto-color-emoji"),
    ("Ж", "fonts-noto-core"),
])
def test_the_glyph_hint_names_the_package_for_the_script(characters: str,
                                                         package: str) -> None:
    assert package in font_package_hint(characters)
