"""Verification of neural text edits: product, drift outside the boxes, OCR."""

from __future__ import annotations

import numpy as np

from adforge.specs import AdCopy, Box, LayoutSpec, TextBox, TextRole
from models.neural.edit_check import (
    EditThresholds,
    best_match,
    rapidocr_reader,
    text_box_mask,
    verify_edit,
)

SPEC = LayoutSpec(boxes=[TextBox(role=TextRole.headline, box=Box(x=0.05, y=0.05, w=0.5, h=0.2),
                                 color="#111111", size_hint=0.05)])
COPY = AdCopy(headline="Fresh every day", language="ko")
THRESHOLDS = EditThresholds()


def scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(200, 20, (100, 100, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros((100, 100), bool)
    mask[55:95, 55:95] = True
    image[mask] = (180, 40, 40)
    return image, mask


def test_an_edit_that_only_writes_in_the_text_box_passes():
    image, mask = scene()
    edited = image.copy()
    edited[8:22, 8:50] = 20  # the "text"
    check = verify_edit(image, edited, SPEC, COPY, THRESHOLDS, product_mask=mask)
    assert check.passed, check.failures
    assert check.metrics["product_delta_e"] == 0.0 and check.metrics["product_ssim"] == 1.0


def test_a_recoloured_product_fails():
    image, mask = scene()
    edited = image.copy()
    edited[mask] = (40, 40, 180)
    check = verify_edit(image, edited, SPEC, COPY, THRESHOLDS, product_mask=mask)
    assert any("product recoloured" in failure for failure in check.failures)


def test_drift_outside_the_text_boxes_fails():
    image, mask = scene()
    edited = image.copy()
    edited[~mask] = (edited[~mask] * 0.7).astype(np.uint8)
    check = verify_edit(image, edited, SPEC, COPY, THRESHOLDS, product_mask=mask)
    assert any("drifted outside" in failure for failure in check.failures)
    assert not any("product" in failure for failure in check.failures)


def test_without_a_mask_everything_outside_the_boxes_is_held_to_the_product_bar():
    image, _ = scene()
    edited = image.copy()
    edited[60:70, 60:70] = 0
    check = verify_edit(image, edited, SPEC, COPY, THRESHOLDS)
    assert not check.passed and "no product mask" in check.notes[0]


def test_ocr_checks_the_exact_copy_where_the_language_allows():
    image, mask = scene()
    english = COPY.model_copy(update={"language": "en"})
    right = verify_edit(image, image, SPEC, english, THRESHOLDS, mask,
                        ocr=lambda _: "FRESH EVERY DAY")
    wrong = verify_edit(image, image, SPEC, english, THRESHOLDS, mask,
                        ocr=lambda _: "Fresh evrey dya")
    assert right.passed and right.metrics["ocr_headline"] == 1.0
    assert not wrong.passed and "headline not written exactly" in wrong.failures[0]


def test_ocr_is_skipped_with_a_note_when_it_cannot_run():
    image, mask = scene()
    korean = verify_edit(image, image, SPEC, COPY, THRESHOLDS, mask)
    assert korean.passed and "ocr skipped: language 'ko'" in korean.notes[0]
    if rapidocr_reader() is None:
        english = verify_edit(image, image, SPEC, COPY.model_copy(update={"language": "en"}),
                              THRESHOLDS, mask)
        assert english.passed and any("ocr unavailable" in n for n in english.notes)


def test_text_boxes_grow_by_the_margin_and_matching_ignores_extra_text():
    mask = text_box_mask(SPEC, (100, 100), 0.02)
    assert mask[3, 3] and not mask[2, 2] and mask[26, 56] and not mask[28, 58]
    assert best_match("shopnow", "50%off!shopnowtoday") == 1.0
    assert best_match("shopnow", "") == 0.0
