"""Briefs: four file formats, one set of rows, and every bad row reported at once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adforge.brief import BriefRow, default_seed, load_brief, write_brief
from adforge.errors import BriefError


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    (tmp_path / "photos").mkdir()
    for name in ("mug.png", "tea.png"):
        Image.new("RGB", (80, 80), "white").save(tmp_path / "photos" / name)
    return tmp_path


def _good_rows() -> list[dict[str, Any]]:
    return [
        {"sku": "MUG-001", "name": "Stoneware mug", "image": "photos/mug.png",
         "headline": "Morning, made slower", "subline": "Hand-thrown stoneware",
         "cta": "Shop now", "language": "en", "style": "ocean",
         "platforms": "instagram_post, 1600x900", "seed": 42,
         "reference": "photos/tea.png", "reference_strength": 0.3, "text_mode": "Typeset"},
        {"sku": "TEA-7", "name": "녹차", "image": "photos/tea.png",
         "headline": "봄의 첫 잎", "subline": "", "cta": "지금 구매", "language": "ko",
         "style": "", "platforms": "", "seed": None,
         "reference": "", "reference_strength": None, "text_mode": ""},
    ]


def _problems(error: BriefError) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in error.errors]


def _load_error(rows: list[dict[str, Any]], path: Path, **options: Any) -> BriefError:
    with pytest.raises(BriefError) as caught:
        load_brief(write_brief(rows, path), **options)
    return caught.value


@pytest.mark.parametrize("extension", ["csv", "xlsx", "parquet", "jsonl", "ndjson"])
def test_every_format_loads_the_same_rows(photo_dir: Path, extension: str) -> None:
    path = write_brief(_good_rows(), photo_dir / f"brief.{extension}")
    brief = load_brief(path, brand_styles={"ocean", "studio-light"})
    assert brief.source == str(path)
    assert brief.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    mug, tea = brief.rows
    assert (mug.row, mug.sku, mug.name, mug.seed) == (2, "MUG-001", "Stoneware mug", 42)
    assert mug.image == (photo_dir / "photos" / "mug.png").resolve()
    assert mug.copy.headline == "Morning, made slower" and mug.copy.cta == "Shop now"
    assert mug.style == "ocean" and mug.prompt is None
    assert mug.platforms == ["instagram_post", "1600x900"]
    assert (tea.row, tea.name, tea.copy.language, tea.copy.subline) == (3, "녹차", "ko", "")
    assert tea.style is None and tea.platforms is None  # None: the run's platforms
    assert tea.seed == default_seed("TEA-7") == default_seed("TEA-7")
    assert mug.reference == (photo_dir / "photos" / "tea.png").resolve()
    assert (mug.reference_strength, mug.text_mode) == (0.3, "typeset")
    assert (tea.reference, tea.reference_strength, tea.text_mode) == (None, 0.6, None)


def test_three_bad_rows_are_reported_together(photo_dir: Path) -> None:
    rows = _good_rows()
    rows.append({**rows[0], "seed": 1})  # row 4: duplicate of row 2
    rows.append({**rows[1], "sku": "../etc"})  # row 5: unsafe
    rows.append({**rows[1], "sku": "GONE-1", "image": "photos/gone.png"})  # row 6
    error = _load_error(rows, photo_dir / "brief.csv")
    assert _problems(error) == [(4, "sku"), (5, "sku"), (6, "image")]
    duplicate, unsafe, missing = (e.reason for e in error.errors)
    assert "also used on row 2" in duplicate
    assert "'../etc'" in unsafe and "letters, digits" in unsafe
    assert str((photo_dir / "photos" / "gone.png").resolve()) in missing
    assert "brief.csv has 3 problem(s)" in str(error)


@pytest.mark.parametrize("sku, words", [
    ("a/b", "path separator"), ("a\\b", "path separator"), (".hidden", "starts with '.'"),
    ("mug 1", "contains ' '"), ("X" * 65, "65 characters"), ("", "sku is empty"),
])
def test_unsafe_or_empty_skus_are_refused(photo_dir: Path, sku: str, words: str) -> None:
    rows = [{**_good_rows()[0], "sku": sku}]
    error = _load_error(rows, photo_dir / "brief.jsonl")
    assert _problems(error) == [(2, "sku")] and words in error.errors[0].reason


def test_skus_differing_only_in_case_are_duplicates(photo_dir: Path) -> None:
    rows = [_good_rows()[0], {**_good_rows()[0], "sku": "mug-001"}]
    error = _load_error(rows, photo_dir / "brief.csv")
    assert _problems(error) == [(3, "sku")] and "'MUG-001'" in error.errors[0].reason


def test_missing_columns_are_reported_on_the_header_row(photo_dir: Path) -> None:
    error = _load_error([{"sku": "MUG-001", "name": "mug"}], photo_dir / "brief.csv")
    assert _problems(error) == [(1, "headline"), (1, "image")]
    assert "add a 'headline' column" in error.errors[0].reason


def test_aliases_and_loose_header_names(photo_dir: Path) -> None:
    rows = [{" SKU ": "MUG-001", "Title": "Mug", "Photo": "photos/mug.png",
             "Headline": "Hi", "Tagline": "sub", "Call To Action": "Buy", "Lang": "zh_hans"}]
    row = load_brief(write_brief(rows, photo_dir / "brief.xlsx")).rows[0]
    assert (row.name, row.copy.subline, row.copy.cta) == ("Mug", "sub", "Buy")
    assert row.copy.language == "zh-Hans"


@pytest.mark.parametrize("cell, expected", [
    ("instagram_story;blog_header", ["instagram_story", "blog_header"]),
    ("twitter_card | 1080x1080  blog_thumbnail", ["twitter_card", "1080x1080",
                                                  "blog_thumbnail"]),
    ("Instagram_Post, instagram_post, 1600X900", ["instagram_post", "1600x900"]),
])
def test_platform_cells_split_on_any_separator(photo_dir: Path, cell: str,
                                               expected: list[str]) -> None:
    rows = [{**_good_rows()[0], "platforms": cell}]
    assert load_brief(write_brief(rows, photo_dir / "b.csv")).rows[0].platforms == expected


def test_bad_platforms_seed_language_style_and_headline(photo_dir: Path) -> None:
    rows = [{**_good_rows()[0], "platforms": "tiktok, 10x10", "seed": "lucky",
             "language": "xx", "style": "neon", "headline": ""}]
    error = _load_error(rows, photo_dir / "b.csv", brand_styles={"ocean", "studio-light"})
    assert _problems(error) == [(2, c) for c in
                                ("headline", "language", "platforms", "seed", "style")]
    reasons = {e.column: e.reason for e in error.errors}
    assert "instagram_post" in reasons["platforms"] and "10x10" in reasons["platforms"]
    assert "ocean, studio-light" in reasons["style"]
    assert "whole number" in reasons["seed"] and "ko" in reasons["language"]


def test_style_is_free_without_a_brand_kit_and_images_can_be_skipped(tmp_path: Path) -> None:
    rows = [{**_good_rows()[0], "style": "neon", "image": "nowhere/x.png"}]
    row = load_brief(write_brief(rows, tmp_path / "b.csv"), check_images=False).rows[0]
    assert row.style == "neon" and row.image == (tmp_path / "nowhere" / "x.png").resolve()


def test_s3_uris_are_syntax_checked_only(tmp_path: Path) -> None:
    rows = [{**_good_rows()[0], "image": "s3://brand-assets/photos/mug.png", "reference": ""},
            {**_good_rows()[1], "image": "ftp://host/tea.png"}]
    error = _load_error(rows, tmp_path / "b.csv", allow_outside=True)
    assert _problems(error) == [(3, "image")] and "s3://bucket/key" in error.errors[0].reason


def test_blank_lines_keep_spreadsheet_row_numbers(photo_dir: Path) -> None:
    path = photo_dir / "b.csv"
    path.write_text("sku,image,headline\nA,photos/mug.png,Hi\n\n,,\nB,photos/nope.png,Yo\n")
    error = _load_error_from(path)
    assert _problems(error) == [(5, "image")]


def _load_error_from(path: Path) -> BriefError:
    with pytest.raises(BriefError) as caught:
        load_brief(path)
    return caught.value


@pytest.mark.parametrize("name, content, words", [
    ("brief.txt", b"sku,image\n", "not a supported brief format"),
    ("brief.xlsx", b"not a zip", "cannot be read as Excel"),
    ("brief.csv", b"", "empty"),
    ("brief.csv", "sku,image,headline\nA,b,안녕\n".encode("cp949"), "UTF-8"),
    ("brief.csv", b"sku,image,headline\n", "no product rows"),
])
def test_unreadable_files_are_one_file_error(tmp_path: Path, name: str, content: bytes,
                                             words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    error = _load_error_from(path)
    assert _problems(error) == [(0, "file")] and words in error.errors[0].reason


def test_missing_brief_file(tmp_path: Path) -> None:
    error = _load_error_from(tmp_path / "nope.parquet")
    assert _problems(error) == [(0, "file")] and "does not exist" in error.errors[0].reason


def test_brief_row_round_trips_as_json(photo_dir: Path) -> None:
    row = load_brief(write_brief(_good_rows(), photo_dir / "b.csv")).rows[0]
    assert BriefRow.model_validate_json(row.model_dump_json()) == row


def test_an_s3_photo_outside_the_briefs_folder_is_a_row_error(tmp_path: Path) -> None:
    """A local brief cannot send the worker's S3 credentials after any object; the
    message names the rule and the setting that lifts it."""
    rows = [{**_good_rows()[0], "image": "s3://other-bucket/secrets/x.png", "reference": ""}]
    with pytest.raises(BriefError) as error:
        load_brief(write_brief(rows, tmp_path / "b.csv"))
    assert _problems(error.value) == [(2, "image")]
    assert "outside the brief's folder" in str(error.value)
    assert "ADFORGE_INPUTS__ALLOW_OUTSIDE" in str(error.value)


def test_s3_image_stays_a_uri_through_json(tmp_path: Path) -> None:
    rows = [{**_good_rows()[0], "image": "s3://brand-assets/photos/mug.png", "reference": ""}]
    row = load_brief(write_brief(rows, tmp_path / "b.parquet"), allow_outside=True).rows[0]
    assert row.image == "s3://brand-assets/photos/mug.png"
    assert BriefRow.model_validate_json(row.model_dump_json()) == row


def test_lenient_loading_keeps_valid_rows_and_returns_every_row_error(photo_dir: Path) -> None:
    from adforge.brief import load_brief_lenient

    rows = [
        {"sku": "OK-1", "image": "photos/mug.png", "headline": "Fine"},
        {"sku": "OK-1", "image": "photos/mug.png", "headline": "Duplicate"},
        {"sku": "a/b", "image": "photos/mug.png", "headline": "Unsafe"},
        {"sku": "OK-2", "image": "photos/nope.png", "headline": "Missing photo"},
        {"sku": "OK-3", "image": "photos/mug.png", "headline": "Also fine"},
    ]
    brief_path = photo_dir / "brief.csv"
    write_brief(rows, brief_path)
    brief, errors = load_brief_lenient(brief_path)
    assert [row.sku for row in brief.rows] == ["OK-1", "OK-3"]
    assert [(e.row, e.column) for e in errors] == [(3, "sku"), (4, "sku"), (5, "image")]
    assert errors[2].item == "OK-2" and errors[0].item == "row-3"


def test_a_brief_without_the_canvas_columns_takes_their_defaults(photo_dir: Path) -> None:
    rows = [{"sku": "OK-1", "image": "photos/mug.png", "headline": "Fine"}]
    row = load_brief(write_brief(rows, photo_dir / "b.csv")).rows[0]
    assert (row.platforms, row.reference, row.reference_strength, row.text_mode) == (
        None, None, 0.6, None)


def test_a_platforms_cell_of_separators_only_means_the_runs_platforms(photo_dir: Path) -> None:
    rows = [{**_good_rows()[0], "platforms": " , ;"}]
    assert load_brief(write_brief(rows, photo_dir / "b.csv")).rows[0].platforms is None


@pytest.mark.parametrize("strength", ["1", "0.05", "1.0"])
def test_reference_strengths_above_0_up_to_1_are_kept(photo_dir: Path, strength: str) -> None:
    rows = [{**_good_rows()[0], "reference_strength": strength}]
    row = load_brief(write_brief(rows, photo_dir / "b.csv")).rows[0]
    assert row.reference_strength == float(strength)


def test_bad_reference_strength_and_text_mode_come_with_every_other_error(
        photo_dir: Path) -> None:
    rows = [
        {**_good_rows()[0], "reference": "photos/gone.png", "reference_strength": "0",
         "text_mode": "paint"},                                             # row 2
        {**_good_rows()[1], "reference": "ftp://host/mood.png",
         "reference_strength": "strong", "seed": "lucky"},                  # row 3
        {**_good_rows()[1], "sku": "TEA-8", "reference": "photos",
         "reference_strength": "1.5"},                                      # row 4
        {**_good_rows()[1], "sku": "TEA-9", "text_mode": "EDIT"},           # row 5: fine
    ]
    error = _load_error(rows, photo_dir / "brief.csv")
    assert _problems(error) == [
        (2, "reference"), (2, "reference_strength"), (2, "text_mode"),
        (3, "reference"), (3, "reference_strength"), (3, "seed"),
        (4, "reference"), (4, "reference_strength")]
    reasons = {(e.row, e.column): e.reason for e in error.errors}
    assert str((photo_dir / "photos" / "gone.png").resolve()) in reasons[(2, "reference")]
    assert "was not found" in reasons[(2, "reference")]
    assert "s3://bucket/key" in reasons[(3, "reference")]
    assert "is a folder, not a file" in reasons[(4, "reference")]
    for key in ((2, "reference_strength"), (3, "reference_strength"),
                (4, "reference_strength")):
        assert "above 0 and at most 1" in reasons[key] and "0.6" in reasons[key]
    assert "'paint'" in reasons[(2, "text_mode")]
    assert "edit, typeset" in reasons[(2, "text_mode")]
    assert "row 2, column 'text_mode'" in str(error)


def test_references_are_checked_like_images(tmp_path: Path) -> None:
    rows = [{**_good_rows()[0], "image": "s3://brand-assets/photos/mug.png",
             "reference": "s3://brand-assets/moods/autumn.jpg"},
            {**_good_rows()[1], "image": "nowhere/x.png", "reference": "nowhere/mood.png"}]
    brief = load_brief(write_brief(rows, tmp_path / "b.parquet"), check_images=False,
                       allow_outside=True)
    s3_row, local_row = brief.rows
    assert s3_row.reference == "s3://brand-assets/moods/autumn.jpg"
    assert local_row.reference == (tmp_path / "nowhere" / "mood.png").resolve()
    assert BriefRow.model_validate_json(s3_row.model_dump_json()) == s3_row
    assert BriefRow.model_validate_json(local_row.model_dump_json()) == local_row


def test_canvas_columns_match_loosely(photo_dir: Path) -> None:
    rows = [{"sku": "A", "image": "photos/mug.png", "headline": "Hi",
             " Reference ": "photos/tea.png", "Reference Strength": "0.9",
             "TEXT-MODE": "edit"}]
    row = load_brief(write_brief(rows, photo_dir / "b.xlsx")).rows[0]
    assert row.reference == (photo_dir / "photos" / "tea.png").resolve()
    assert (row.reference_strength, row.text_mode) == (0.9, "edit")
