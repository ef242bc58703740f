"""The quality gates: thresholds from settings, every verdict named, the product checks
that catch a vanished, repainted or blurred product, and the record a canvas keeps."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adforge.gates import GATE_NAMES, Attempt, GateRecord, GateResult, evaluate, passes
from adforge.imaging.metrics import product_region_checks
from adforge.imaging.renditions import copy_set_exactly
from adforge.samples import render_sample
from adforge.settings import QualitySettings, load_settings
from adforge.specs import AdCopy, PixelBox, TextRole
from models.contracts import FitReport

GOOD = {"copy_exact": 1.0, "min_contrast": 6.0, "text_product_overlap": 0.0,
        "text_inside_safe": 1.0, "logo_inside_safe": 1.0, "product_inside": 1.0,
        "delta_e": 1.2, "product_ssim": 0.96, "sharpness_ratio": 1.8,
        "segment_confidence": 0.97, "product_visible": 0.7, "bytes": 250_000.0,
        "width": 1080.0}


def failing(measures: dict[str, float], quality: QualitySettings | None = None,
            platform: str = "instagram_post") -> set[str]:
    results = evaluate(measures, quality or QualitySettings(), platform)
    return {result.gate for result in results if not result.passed}


def test_a_good_canvas_passes_every_gate_and_each_is_named() -> None:
    results = evaluate(GOOD, QualitySettings(), "instagram_post")
    assert {r.gate for r in results} == set(GATE_NAMES) - {"bytes"}  # no budget set
    assert all(r.passed for r in results)


@pytest.mark.parametrize(("metric", "value"), [
    ("copy_exact", 0.0), ("min_contrast", 4.4), ("text_product_overlap", 0.01),
    ("text_inside_safe", 0.0), ("logo_inside_safe", 0.0), ("product_inside", 0.0),
    ("delta_e", 3.1), ("product_ssim", 0.5), ("sharpness_ratio", 0.3),
    ("segment_confidence", 0.16), ("product_visible", 0.05)])
def test_each_gate_fails_alone_on_its_own_measure(metric: str, value: float) -> None:
    assert failing(GOOD | {metric: value}) == {metric}
    assert not passes(metric, value)


def test_thresholds_come_from_the_settings_and_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADFORGE_QUALITY__MIN_CONTRAST", "7")
    monkeypatch.setenv("ADFORGE_QUALITY__MAX_BYTES", '{"blog_thumbnail": 100000}')
    quality = load_settings().quality
    assert quality.max_attempts == 3 and quality.review_timeout_s == 24 * 3600
    assert failing(GOOD, quality) == {"min_contrast"}  # 6.0 < 7
    assert failing(GOOD, quality, "blog_thumbnail") == {"min_contrast", "bytes"}
    assert passes("width", 1.0) and passes("unknown", -5.0)  # measures that are no gate


def test_a_result_says_what_failed_and_by_how_much() -> None:
    [low] = evaluate({"segment_confidence": 0.16}, QualitySettings(), "x")
    [high] = evaluate({"delta_e": 4.0}, QualitySettings(), "x")
    assert low.words() == "segment_confidence 0.16 < 0.5"
    assert high.words() == "delta_e 4 > 3"


def _attempt(number: int, failed: list[str], repair: str | None = None) -> Attempt:
    results = [GateResult(gate=g, value=0.0, threshold=1.0, passed=g not in failed)
               for g in ("copy_exact", "min_contrast", "segment_confidence")]
    return Attempt(number=number, repair=repair, layout="l", text="t", results=results)


def test_the_record_keeps_the_chosen_attempt_and_names_the_repair() -> None:
    repaired = GateRecord(attempts=[_attempt(1, ["min_contrast"]),
                                    _attempt(2, [], "more contrast")], kept=1)
    assert repaired.passed and not repaired.held and repaired.failing() == []
    assert repaired.repair_part() == {"backend": "more contrast", "attempts": 2,
                                      "reason": "failed min_contrast 0 < 1"}
    unsure = GateRecord(attempts=[_attempt(1, ["segment_confidence"])], kept=0)
    assert unsure.held and unsure.repair_part() is None
    assert unsure.failing() == [{"gate": "segment_confidence", "value": 0.0,
                                 "threshold": 1.0}]
    assert not GateRecord(attempts=unsure.attempts, kept=0, enforced=False).held


# --- the product checks -------------------------------------------------------------------


@pytest.fixture(scope="module")
def placed() -> tuple[np.ndarray, np.ndarray, PixelBox]:
    """A sample product's cutout (its true mask as alpha), and an ad with it placed."""
    photo, mask = render_sample("mug", size=256, seed=0)
    cutout = np.dstack([photo, mask.astype(np.uint8) * 255])
    box = PixelBox(300, 200, 556, 456)  # same size as the cutout: placed 1:1
    ad = np.full((720, 900, 3), 200, np.uint8)
    inside = mask.astype(bool)
    ad[200:456, 300:556][inside] = photo[inside]
    return ad, cutout, box


def test_a_product_placed_as_it_was_cut_passes(placed) -> None:
    ad, cutout, box = placed
    checks = product_region_checks(ad, cutout, box)
    assert checks["product_ssim"] > 0.99 and checks["sharpness_ratio"] == pytest.approx(1, 0.05)
    assert 0.2 < checks["product_visible"] < 0.9
    assert not failing(GOOD | checks)


def test_a_vanished_a_repainted_and_a_blurred_product_fail(placed) -> None:
    ad, cutout, box = placed
    ghost = cutout.copy()
    ghost[..., 3] = (ghost[..., 3] * 0.3).astype(np.uint8)  # a matte that found nothing solid
    assert product_region_checks(ad, ghost, box)["product_visible"] == 0.0
    repainted = ad.copy()
    repainted[260:400, 330:520] = (40, 90, 160)  # an edit painted over the product
    assert product_region_checks(repainted, cutout, box)["product_ssim"] < 0.85
    blurred = ad.copy()
    blurred[200:456, 300:556] = cv2.GaussianBlur(ad[200:456, 300:556], (0, 0), 4)
    assert product_region_checks(blurred, cutout, box)["sharpness_ratio"] < 0.5


def test_copy_is_exact_only_when_every_role_is_set_in_full() -> None:
    copy = AdCopy(headline="Fresh", subline="Daily", cta="Shop")

    def fit(role: TextRole, ellipsized: bool = False) -> FitReport:
        return FitReport(role=role, font="f", font_px=20, lines=["x"], ellipsized=ellipsized,
                         box=PixelBox(0, 0, 10, 10))

    assert copy_set_exactly([fit(role) for role in TextRole], copy)
    assert not copy_set_exactly([fit(TextRole.headline), fit(TextRole.subline)], copy)
    assert not copy_set_exactly([fit(TextRole.headline, True), fit(TextRole.subline),
                                 fit(TextRole.cta)], copy)
