"""Verification of a neural text edit: the product untouched, nothing drifted outside
the text boxes, and (where the language allows) the copy really written.

1. product fidelity inside the product mask: SSIM, mean CIELAB ΔE, and the share of
   pixels repainted (a local change a mean would dilute);
2. drift outside the text boxes (grown by a margin) and outside the product: mean ΔE;
3. OCR of the copy with rapidocr (the optional `ocr` extra), for the languages it reads;
   when it is not installed or cannot read the language, the check is skipped and a
   note says so ("ocr unavailable").

Every check reports its metric; a failed check names what failed and by how much.
No torch here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np

from adforge.imaging.color import delta_e76, mean_delta_e, srgb_to_lab
from adforge.imaging.metrics import ssim
from adforge.specs import AdCopy, LayoutSpec, TextRole

OCR_LANGUAGES = {"en", "zh"}  # what rapidocr's bundled models recognise
CHANGED_DE = 10.0  # a pixel this far from the original was repainted, not re-encoded
BOX_MARGIN = 0.02  # text boxes grow by this fraction of the frame before drift is measured

OcrReader = Callable[[np.ndarray], str]


@dataclass(frozen=True)
class EditThresholds:
    min_product_ssim: float = 0.95
    max_product_delta_e: float = 3.0
    max_product_changed: float = 0.01  # share of product pixels whose ΔE exceeds CHANGED_DE
    max_outside_delta_e: float = 4.0
    min_ocr_similarity: float = 0.9


@dataclass
class EditCheck:
    metrics: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def verify_edit(original: np.ndarray, edited: np.ndarray, spec: LayoutSpec, copy: AdCopy,
                thresholds: EditThresholds, product_mask: np.ndarray | None = None,
                ocr: OcrReader | None = None) -> EditCheck:
    """All checks of one edit (images of the same size, RGB uint8)."""
    if original.shape != edited.shape:
        raise ValueError(f"edited image {edited.shape} differs from the original "
                         f"{original.shape}; resize it back first")
    check = EditCheck()
    text_area = text_box_mask(spec, original.shape[:2], BOX_MARGIN)
    if product_mask is None:
        check.notes.append("no product mask: product fidelity measured outside the text boxes")
        product = ~text_area
    else:
        product = product_mask.astype(bool) & ~text_area
    _check_product(original, edited, product, thresholds, check)
    _check_outside(original, edited, ~text_area & ~product, thresholds, check)
    _check_ocr(edited, copy, thresholds, ocr, check)
    return check


def text_box_mask(spec: LayoutSpec, shape: tuple[int, int], margin: float) -> np.ndarray:
    """True inside every text box, each grown by `margin` of the frame."""
    height, width = shape
    mask = np.zeros(shape, bool)
    grow_x, grow_y = round(margin * width), round(margin * height)
    for text_box in spec.boxes:
        x0, y0, x1, y1 = text_box.box.to_pixels(width, height)
        mask[max(0, y0 - grow_y):y1 + grow_y, max(0, x0 - grow_x):x1 + grow_x] = True
    return mask


def _check_product(original: np.ndarray, edited: np.ndarray, mask: np.ndarray,
                   thresholds: EditThresholds, check: EditCheck) -> None:
    if not mask.any():
        return
    # SSIM's 11x11 window straddles the product's edge: score the interior only (ΔE,
    # per pixel, still covers the edge).
    interior = cv2.erode(mask.astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool)
    score = ssim(original, edited, interior if interior.any() else mask)
    delta = mean_delta_e(original, edited, mask)
    changed = float((pixel_delta_e(original, edited)[mask] > CHANGED_DE).mean())
    check.metrics |= {"product_ssim": score, "product_delta_e": delta,
                      "product_changed": changed}
    if changed > thresholds.max_product_changed:
        check.failures.append(f"product repainted locally: {changed:.1%} of its pixels "
                              f"moved by ΔE > {CHANGED_DE:.0f} (allowed "
                              f"{thresholds.max_product_changed:.1%})")
    if score < thresholds.min_product_ssim:
        check.failures.append(f"product changed: SSIM {score:.3f} < "
                              f"{thresholds.min_product_ssim}")
    if delta > thresholds.max_product_delta_e:
        check.failures.append(f"product recoloured: mean ΔE {delta:.2f} > "
                              f"{thresholds.max_product_delta_e}")


def _check_outside(original: np.ndarray, edited: np.ndarray, mask: np.ndarray,
                   thresholds: EditThresholds, check: EditCheck) -> None:
    if not mask.any():
        return
    delta = mean_delta_e(original, edited, mask)
    check.metrics["outside_delta_e"] = delta
    if delta > thresholds.max_outside_delta_e:
        check.failures.append(f"image drifted outside the text boxes: mean ΔE {delta:.2f} > "
                              f"{thresholds.max_outside_delta_e}")


def _check_ocr(edited: np.ndarray, copy: AdCopy, thresholds: EditThresholds,
               ocr: OcrReader | None, check: EditCheck) -> None:
    language = copy.language.split("-")[0].lower()
    if language not in OCR_LANGUAGES:
        check.notes.append(f"ocr skipped: language {copy.language!r} is not recognised")
        return
    reader = ocr or rapidocr_reader()
    if reader is None:
        check.notes.append("ocr unavailable: install the `ocr` extra (rapidocr)")
        return
    found = normalise(reader(edited))
    for role in TextRole:
        wanted = normalise(copy.text_for(role))
        if not wanted:
            continue
        similarity = best_match(wanted, found)
        check.metrics[f"ocr_{role.value}"] = similarity
        if similarity < thresholds.min_ocr_similarity:
            check.failures.append(f"{role.value} not written exactly: OCR similarity "
                                  f"{similarity:.2f} < {thresholds.min_ocr_similarity}")


def pixel_delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return delta_e76(srgb_to_lab(a), srgb_to_lab(b))


def normalise(text: str) -> str:
    """Case and spacing folded (OCR drops spaces), punctuation kept."""
    return re.sub(r"\s+", "", text).casefold()


def best_match(wanted: str, found: str) -> float:
    """Similarity of `wanted` to the best-matching stretch of `found` (0..1)."""
    if not found:
        return 0.0
    matcher = difflib.SequenceMatcher(None, wanted, found, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched / len(wanted)


@cache
def rapidocr_reader() -> OcrReader | None:
    """rapidocr's reader when the optional extra is installed, else None."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR(det_limit_type="max", det_limit_side_len=960, use_cls=False)

    def read(image: np.ndarray) -> str:
        result, _ = engine(image[..., ::-1].copy())  # rapidocr takes BGR
        return " ".join(line[1] for line in result or [])

    return read
