"""Variants in the brief (ids, seeds, styles, copy labels, errors) and the draft score
and automatic selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from adforge.brief import load_brief_lenient, write_brief
from adforge.samples import render_sample
from adforge.variants import (
    VariantScore,
    auto_selection,
    draft_score,
    parse_choice,
    split_key,
    variant_id,
)

STYLES = {"ocean", "warm", "studio-light"}


def _brief(folder: Path, rows: list[dict]) -> Path:
    from PIL import Image

    rgb, _ = render_sample("mug", size=96, seed=0)
    Image.fromarray(rgb).save(folder / "mug.png")
    base = {"image": "mug.png", "headline": "Mornings, made slower"}
    return write_brief([base | row for row in rows], folder / "brief.csv")


def _load(folder: Path, rows: list[dict], **kwargs):  # noqa: ANN202
    return load_brief_lenient(_brief(folder, rows), brand_styles=STYLES, **kwargs)


def test_backdrop_variants_get_their_own_seeds_styles_ids_and_keys(tmp_path: Path) -> None:
    brief, errors = _load(tmp_path, [{"sku": "MUG-1", "seed": "7", "variants": "3",
                                      "styles": "ocean|warm", "variant": ""}])
    assert errors == []
    rows = brief.rows
    assert [r.seed for r in rows] == [7, 8, 9]
    assert [r.style for r in rows] == ["ocean", "warm", "ocean"]
    assert [r.variant_label for r in rows] == ["v1", "v2", "v3"]
    assert [r.variant for r in rows] == [variant_id("MUG-1", f"v{n}", 6 + n, s)
                                         for n, s in zip((1, 2, 3), ("ocean", "warm", "ocean"),
                                                         strict=True)]
    assert [r.key for r in rows] == [f"MUG-1/{r.variant}" for r in rows]
    assert {split_key(r.key) for r in rows} == {("MUG-1", r.variant) for r in rows}
    again, _ = _load(tmp_path, [{"sku": "MUG-1", "seed": "7", "variants": "3",
                                 "styles": "ocean|warm", "variant": ""}])
    assert [r.variant for r in again.rows] == [r.variant for r in rows]  # stable


def test_styles_alone_set_how_many_variants_and_one_variant_keeps_the_sku(
        tmp_path: Path) -> None:
    brief, errors = _load(tmp_path, [
        {"sku": "A-1", "styles": "ocean|warm|studio-light", "variants": "", "variant": ""},
        {"sku": "B-1", "styles": "", "variants": "", "variant": ""}])
    assert errors == []
    assert [r.key for r in brief.rows if r.sku == "A-1"] == [
        f"A-1/{r.variant}" for r in brief.rows if r.sku == "A-1"]
    assert len([r for r in brief.rows if r.sku == "A-1"]) == 3
    (single,) = [r for r in brief.rows if r.sku == "B-1"]
    assert single.key == "B-1" and single.variant_label == "v1"


def test_copy_variants_share_a_sku_with_their_own_copy(tmp_path: Path) -> None:
    brief, errors = _load(tmp_path, [
        {"sku": "MUG-1", "variant": "A", "variants": "", "styles": ""},
        {"sku": "MUG-1", "variant": "B", "variants": "2", "styles": "",
         "headline": "Slow mornings"}])
    assert errors == []
    assert [r.variant_label for r in brief.rows] == ["A", "B1", "B2"]
    assert [r.copy_variant for r in brief.rows] == ["A", "B", "B"]
    assert brief.rows[1].copy.headline == "Slow mornings"
    assert len({r.key for r in brief.rows}) == 3


def test_the_run_default_applies_to_rows_without_a_variants_cell(tmp_path: Path) -> None:
    brief, _ = _load(tmp_path, [{"sku": "MUG-1", "variants": "", "styles": "", "variant": ""},
                                {"sku": "MUG-2", "variants": "1", "styles": "",
                                 "variant": ""}], default_variants=2)
    assert [r.sku for r in brief.rows] == ["MUG-1", "MUG-1", "MUG-2"]


@pytest.mark.parametrize(("row", "column", "words"), [
    ({"sku": "M-1", "variants": "0"}, "variants", "from 1 to 12"),
    ({"sku": "M-1", "variants": "two"}, "variants", "whole number"),
    ({"sku": "M-1", "styles": "ocean|neon"}, "styles", "style 'neon' is unknown"),
    ({"sku": "M-1", "variant": "A/B"}, "variant", "not a usable label"),
])
def test_bad_variant_cells_are_row_errors_naming_the_fix(
        tmp_path: Path, row: dict, column: str, words: str) -> None:
    brief, errors = _load(tmp_path, [{"variants": "", "styles": "", "variant": ""} | row,
                                     {"sku": "OK-1", "variants": "", "styles": "",
                                      "variant": ""}])
    assert [(e.row, e.column) for e in errors] == [(2, column)]
    assert words in str(errors[0])
    assert [r.sku for r in brief.rows] == ["OK-1"]  # the valid row goes on


def test_a_repeated_copy_label_or_sku_without_labels_is_refused(tmp_path: Path) -> None:
    _, errors = _load(tmp_path, [
        {"sku": "M-1", "variant": "A", "variants": "", "styles": ""},
        {"sku": "m-1", "variant": "a", "variants": "", "styles": ""},
        {"sku": "N-1", "variant": "", "variants": "", "styles": ""},
        {"sku": "N-1", "variant": "", "variants": "", "styles": ""}])
    assert [(e.row, e.column) for e in errors] == [(3, "variant"), (5, "sku")]
    assert "also on row 2" in str(errors[0]) and "own label" in str(errors[0])
    assert "unique SKU" in str(errors[1]) and "variant" in str(errors[1])


def test_the_draft_score_weighs_each_gate_margin() -> None:
    thresholds = {"min_contrast": 4.5, "text_product_overlap": 0.05, "delta_e": 3.0,
                  "segment_confidence": 0.5}
    best, terms = draft_score({"min_contrast": 9.0, "text_product_overlap": 0.0,
                               "delta_e": 0.0, "segment_confidence": 1.0}, thresholds)
    assert best == pytest.approx(1.0) and set(terms) == set(thresholds)
    worse, _ = draft_score({"min_contrast": 5.0, "text_product_overlap": 0.04,
                            "delta_e": 2.5, "segment_confidence": 0.6}, thresholds)
    failing, _ = draft_score({"min_contrast": 3.0, "text_product_overlap": 0.2,
                              "delta_e": 5.0, "segment_confidence": 0.2}, thresholds)
    assert best > worse > failing == 0.0
    missing, missing_terms = draft_score({}, thresholds)
    assert missing == 0.0 and all(v == 0.0 for v in missing_terms.values())


def _score(key: str, score: float, copy: str = "") -> VariantScore:
    sku, variant = split_key(key)
    return VariantScore(key=key, sku=sku, variant=variant, score=score, copy=copy)


def test_auto_selection_keeps_the_best_of_each_copy_variant_deterministically() -> None:
    scores = [_score("M/v1-aa", 0.5), _score("M/v2-bb", 0.7), _score("M/v3-cc", 0.7),
              _score("N/A1-dd", 0.2, "A"), _score("N/A2-ee", 0.9, "A"),
              _score("N/B1-ff", 0.4, "B")]
    chosen = auto_selection(scores, keep=1)
    assert chosen.kept == {"M": ["M/v2-bb"], "N": ["N/A2-ee", "N/B1-ff"]}
    assert chosen.by == "auto"
    assert auto_selection(list(reversed(scores)), keep=1).kept["M"] == ["M/v2-bb"]
    assert auto_selection(scores, keep=2).kept["M"] == ["M/v2-bb", "M/v3-cc"]


def test_a_person_may_name_a_variant_by_its_label_or_id() -> None:
    scores = [_score("M/A-1a2b3c", 0.5), _score("M/B-4d5e6f", 0.7)]
    assert parse_choice("M", ["A"], scores) == ["M/A-1a2b3c"]
    assert parse_choice("M", ["B-4d5e6f", "A"], scores) == ["M/B-4d5e6f", "M/A-1a2b3c"]
    with pytest.raises(ValueError, match="not one of A-1a2b3c, B-4d5e6f"):
        parse_choice("M", ["C"], scores)
    with pytest.raises(ValueError, match="no drafted variants"):
        parse_choice("X", ["A"], scores)
