"""Typesetting text backend: the brand's fonts, fitted into the layout's boxes."""

from __future__ import annotations

import numpy as np

from adforge.brandkit import BrandKit, FontRef
from adforge.errors import MissingGlyphsError
from adforge.fonts import resolve_font
from adforge.imaging.typeset import PlacedText, TextBlock, typeset
from adforge.specs import AdCopy, LayoutSpec, TextBox, TextRole
from models.classic.base import ClassicBackend
from models.contracts import FitReport, TextResult


class TypesetRenderer(ClassicBackend):
    """Draws the copy exactly as given with Pillow: wrap, shrink to fit, CJK line breaks."""

    name = "typeset"
    needs_product_mask = False

    def __init__(self, *, min_font_px: int | None = None) -> None:
        self.min_font_px = min_font_px  # None: scales with the frame (see textfit.min_font_px)

    def render(self, image: np.ndarray, spec: LayoutSpec, copy: AdCopy,
               brand: BrandKit) -> TextResult:
        # 1. One block per box whose role has copy, in the font the brand gives that role.
        height, width = image.shape[:2]
        blocks = [self._block(box, copy, brand, width, height)
                  for box in spec.boxes if copy.text_for(box.role).strip()]
        # 2. Panel and buttons, then the glyphs.
        result = typeset(image, blocks, underlay=spec.underlay, shadow=spec.shadow,
                         min_px=self.min_font_px)
        return TextResult(result.image, result.backing,
                          [fit_report(item) for item in result.placed])

    def _block(self, box: TextBox, copy: AdCopy, brand: BrandKit, width: int,
               height: int) -> TextBlock:
        text = copy.text_for(box.role)
        try:
            font = resolve_font(font_for_role(brand, box.role), text, language=copy.language)
        except MissingGlyphsError as exc:
            raise MissingGlyphsError(exc.characters, exc.font, item=brand.name,
                                     field=f"copy.{box.role.value}") from exc
        return TextBlock(role=box.role, text=text, font=font,
                         box=box.box.to_pixels(width, height), color=box.color,
                         size_px=max(1, round(box.size_hint * height)),
                         max_lines=box.max_lines, align=box.align, fill=box.fill)


def font_for_role(brand: BrandKit, role: TextRole) -> FontRef:
    """Headline font for the headline, body font for the subline, CTA font for the button."""
    return {TextRole.headline: brand.fonts.headline, TextRole.subline: brand.fonts.body,
            TextRole.cta: brand.fonts.cta}[role]


def fit_report(item: PlacedText) -> FitReport:
    return FitReport(role=item.block.role, font=item.block.font.key,
                     font_px=item.fitted.font_px, lines=list(item.fitted.lines),
                     ellipsized=item.fitted.ellipsized, box=item.ink)
