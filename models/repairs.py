"""The repairs the gate stage tries on a canvas that failed a quality gate, in order.

Both lay the copy out again with the classic analyzer (clear of the product, inside
the safe area, on the composed canvas's real pixels) and set it with the brand's fonts,
which write exactly the copy given: so they help wherever the copy, its place or its
contrast failed, or where a text edit disturbed the product. They cannot help a cutout
the segmenter was unsure of or a product whose colours moved: those go to review.

1. more contrast: a 7:1 target (WCAG AAA), so an underlay panel goes under the copy
   wherever the brand's colours alone do not reach it;
2. smaller type as well (80 %): more room clear of the product and inside the safe area.
"""

from __future__ import annotations

from adforge.stages.gate import Repair
from models.classic.layout import ClassicLayoutAnalyzer
from models.registry import backend

FIXES = frozenset({"copy_exact", "min_contrast", "text_product_overlap", "text_inside_safe",
                   "logo_inside_safe", "product_ssim", "sharpness_ratio"})


def repair_ladder() -> list[Repair]:
    """The repairs, first tried first (classic backends: no model, no GPU)."""
    typeset = backend("text", "typeset")
    return [
        Repair("classic layout, 7:1 contrast, typeset",
               ClassicLayoutAnalyzer(contrast_target=7.0), typeset, FIXES),
        Repair("classic layout, 7:1 contrast, smaller type, typeset",
               ClassicLayoutAnalyzer(contrast_target=7.0, type_scale=0.8), typeset, FIXES),
    ]
