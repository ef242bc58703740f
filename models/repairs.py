"""The repairs the gate stage tries on a canvas that failed a quality gate, in order.

Both lay the copy out again with the classic analyzer (clear of the product, inside
the safe area, on the composed canvas's real pixels) and set it with the brand's fonts,
which write exactly the copy given: so they help wherever the copy, its place or its
contrast failed, or where a text edit disturbed the product. They cannot help a cutout
the segmenter was unsure of or a product whose colours moved: those go to review.

1. more contrast: a 7:1 target (WCAG AAA), so an underlay panel goes under the copy
   wherever the brand's colours alone do not reach it;
2. smaller type as well (80 %): more room clear of the product and inside the safe area;
3. with a neural backdrop generator (FLUX): another backdrop from the next seed, the
   product harmonised toward it again, then as 1. This one can also help a product whose
   colours moved toward the first backdrop's light. (Another seed for a text edit needs
   no repair: the edit renderer itself retries with new seeds before it typesets.)

A product whose cutout is unsure is cut out again by the other segmenter (`other_segmenter`:
the classic one when the profile segments with BiRefNet), then laid out and lettered as 1.
"""

from __future__ import annotations

from typing import Any

from adforge.stages.gate import Repair
from models.classic.layout import ClassicLayoutAnalyzer
from models.registry import backend

FIXES = frozenset({"copy_exact", "min_contrast", "text_product_overlap", "text_inside_safe",
                   "logo_inside_safe", "product_ssim", "sharpness_ratio"})


RESEED_FIXES = FIXES | {"delta_e"}


def repair_ladder(generator: Any = None) -> list[Repair]:
    """The repairs, first tried first (classic backends: no model, no GPU); a reseeded
    backdrop last, when the run's backdrop `generator` is a neural one."""
    typeset = backend("text", "typeset")
    ladder = [
        Repair("classic layout, 7:1 contrast, typeset",
               ClassicLayoutAnalyzer(contrast_target=7.0), typeset, FIXES),
        Repair("classic layout, 7:1 contrast, smaller type, typeset",
               ClassicLayoutAnalyzer(contrast_target=7.0, type_scale=0.8), typeset, FIXES),
    ]
    if generator is not None and generator.needs_gpu:
        ladder.append(Repair("another backdrop seed, classic layout, 7:1 contrast, typeset",
                             ClassicLayoutAnalyzer(contrast_target=7.0), typeset,
                             RESEED_FIXES, generator=generator, seed_step=1))
    return ladder


def other_segmenter(segmenter: str) -> Any:
    """The segmenter a product gets when the run's was unsure of its cutout: the classic
    one after a neural one; None on the classic profile (its alternative needs weights)."""
    return None if segmenter == "classic" else backend("segment", "classic")
