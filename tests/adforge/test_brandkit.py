"""Brand kits: the mood image, its strength and the text mode, and the errors that name
the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import adforge.brandkit as brandkit
from adforge.brandkit import default_brand_kit, load_brand_kit
from adforge.errors import BrandKitError


def _kit(folder: Path, body: str) -> Path:
    path = folder / "kits" / "brand.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("name: Hanbit Goods\n" + body, encoding="utf-8")
    return path


def _mood(folder: Path, relative: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), "#C08040").save(path)
    return path


def _error(path: Path) -> BrandKitError:
    with pytest.raises(BrandKitError) as caught:
        load_brand_kit(path)
    return caught.value


def test_a_kit_without_the_new_keys_keeps_their_defaults(tmp_path: Path) -> None:
    kit = load_brand_kit(_kit(tmp_path, ""))
    assert (kit.mood_image, kit.mood_strength, kit.text_mode) == (None, 0.5, None)
    default = default_brand_kit()
    assert (default.mood_image, default.mood_strength, default.text_mode) == (None, 0.5, None)


def test_the_mood_image_resolves_beside_the_kit_file_not_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mood = _mood(tmp_path, "kits/mood/autumn.png")
    path = _kit(tmp_path, "mood_image: mood/autumn.png\nmood_strength: 0.8\n"
                          "text_mode: Typeset\n")
    monkeypatch.chdir(tmp_path)
    kit = load_brand_kit(path)
    assert kit.mood_image == mood and kit.mood_image.is_file()
    assert (kit.mood_strength, kit.text_mode) == (0.8, "typeset")


def test_an_absolute_mood_image_and_an_s3_one_are_kept(tmp_path: Path) -> None:
    mood = _mood(tmp_path, "elsewhere/mood.png")  # outside the kit's folder: allowed here
    kit_file = _kit(tmp_path, f"mood_image: {mood}\n")
    assert load_brand_kit(kit_file, allow_outside=True).mood_image == mood
    with pytest.raises(BrandKitError, match="outside the brand kit's folder"):
        load_brand_kit(kit_file)
    uri = "s3://brand-assets/moods/autumn.jpg"
    kit = load_brand_kit(_kit(tmp_path, f"mood_image: {uri}\ntext_mode: edit\n"))
    assert kit.mood_image == uri and kit.text_mode == "edit"


@pytest.mark.parametrize("body, words", [
    ("mood_image: mood/gone.png\n", ["was not found", "kits", "remove mood_image"]),
    ("mood_image: ftp://host/mood.png\n", ["s3://bucket/key"]),
    ("mood_image: ''\n", ["not an image path", "remove mood_image"]),
    ("mood_strength: 0\n", ["above 0 and at most 1"]),
    ("mood_strength: 1.5\n", ["above 0 and at most 1"]),
    ("mood_strength: strong\n", ["valid number"]),
    ("text_mode: paint\n", ["'paint'", "edit", "typeset", "remove text_mode"]),
])
def test_bad_values_name_the_key_and_the_fix(tmp_path: Path, body: str,
                                             words: list[str]) -> None:
    error = _error(_kit(tmp_path, body))
    key = body.split(":")[0]
    assert error.field == key and f"field '{key}'" in str(error)
    for word in words:
        assert word in str(error)


def test_a_mood_image_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kits" / "mood").mkdir(parents=True)
    error = _error(_kit(tmp_path, "mood_image: mood\n"))
    assert error.field == "mood_image" and "is a folder, not a file" in str(error)


def test_an_s3_kit_downloads_its_relative_mood_image(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As its fonts and logo are: into the cache, from beside the kit's object."""
    fetched: list[str] = []

    def fake_copy(source: str, cache: Path, s3: object) -> Path:
        fetched.append(source)
        return cache / "mood.png"

    kit_yaml = b"name: S3 Brand\nmood_image: moods/autumn.png\n"
    monkeypatch.setattr(brandkit, "read_source", lambda uri, s3: kit_yaml)
    monkeypatch.setattr(brandkit, "local_copy", fake_copy)
    kit = load_brand_kit("s3://brand-assets/kits/brand.yaml", cache_dir=tmp_path)
    assert fetched == ["s3://brand-assets/kits/moods/autumn.png"]
    assert kit.mood_image == tmp_path / "mood.png"


def test_an_s3_kit_names_its_missing_mood_image(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(source: str, cache: Path, s3: object) -> Path:
        raise FileNotFoundError(source)

    monkeypatch.setattr(brandkit, "read_source",
                        lambda uri, s3: b"name: S3 Brand\nmood_image: moods/gone.png\n")
    monkeypatch.setattr(brandkit, "local_copy", missing)
    with pytest.raises(BrandKitError) as caught:
        load_brand_kit("s3://brand-assets/kits/brand.yaml", cache_dir=tmp_path)
    assert caught.value.field == "mood_image"
    assert "s3://brand-assets/kits/moods/gone.png does not exist" in str(caught.value)
