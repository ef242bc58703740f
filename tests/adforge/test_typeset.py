"""Typesetting: CJK-aware wrapping, shrink-to-fit, ellipsis, alignment, panel and button."""

from __future__ import annotations

import numpy as np
import pytest

from adforge.brandkit import FontRef
from adforge.fonts import ResolvedFont, resolve_font
from adforge.imaging.color import min_contrast
from adforge.imaging.linebreak import NO_LINE_END, NO_LINE_START, split_atoms, wrap_atoms
from adforge.imaging.textfit import ELLIPSIS, fit_text, get_font
from adforge.imaging.typeset import TextBlock, hex_contrast, typeset
from adforge.specs import PixelBox, TextRole, Underlay

KOREAN = "봄맞이 한정 세일 지금 바로 만나보세요"
CHINESE = "春季限定新品，「好评」如潮！现在购买，立享优惠。"
JAPANESE = "春の限定セール、「人気」商品がお得！ぜひ、ご利用ください。"


def font_for(text: str, language: str, weight: str = "bold") -> ResolvedFont:
    return resolve_font(FontRef(weight=weight), text, language=language)


def measure(font: ResolvedFont, px: int = 40):
    pil = get_font(str(font.path), font.index, px)
    return pil.getlength


def frame(color: int = 240, size: tuple[int, int] = (600, 800)) -> np.ndarray:
    return np.full((*size, 3), color, np.uint8)


def ink_outside(result_image: np.ndarray, backing: np.ndarray, box: PixelBox) -> int:
    changed = (result_image != backing).any(axis=2)
    changed[box.y0:box.y1, box.x0:box.x1] = False
    return int(changed.sum())


@pytest.mark.parametrize(("text", "language"), [(CHINESE, "zh"), (JAPANESE, "ja")])
def test_cjk_wrapping_respects_kinsoku_at_every_width(text: str, language: str) -> None:
    font = font_for(text, language)
    for max_width in range(80, 700, 20):
        lines = wrap_atoms(split_atoms(text), measure(font), max_width, split_words=False)

        assert lines is not None and "".join(lines) == text
        for line in lines:
            assert line[0] not in NO_LINE_START, (max_width, lines)
            assert line[-1] not in NO_LINE_END, (max_width, lines)


def test_cjk_breaks_between_ideographs() -> None:
    font = font_for(CHINESE, "zh")
    lines = wrap_atoms(split_atoms("春季限定新品"), measure(font), 130, split_words=False)

    assert lines == ["春季限", "定新品"]


def test_korean_breaks_only_at_spaces() -> None:
    font = font_for(KOREAN, "ko")
    words = KOREAN.split()
    for max_width in range(200, 800, 25):
        lines = wrap_atoms(split_atoms(KOREAN), measure(font), max_width, split_words=False)

        assert lines is not None and " ".join(lines) == KOREAN
        assert all(word in words for line in lines for word in line.split())


def test_a_korean_word_wider_than_the_box_is_split_only_when_allowed() -> None:
    font = font_for("초특가한정세일이벤트", "ko")
    atoms = split_atoms("초특가한정세일이벤트")

    assert wrap_atoms(atoms, measure(font), 150, split_words=False) is None
    lines = wrap_atoms(atoms, measure(font), 150, split_words=True)
    assert lines is not None and len(lines) > 1 and "".join(lines) == "초특가한정세일이벤트"


def test_long_latin_word_shrinks_before_it_is_broken() -> None:
    font = font_for("x", "en")
    text = "Supercalifragilistic sale"

    shrunk = fit_text(text, font, 300, 200, size_px=60, min_px=12, max_lines=2)
    assert shrunk.font_px < 60 and "Supercalifragilistic" in shrunk.lines
    broken = fit_text(text, font, 300, 200, size_px=60, min_px=60, max_lines=3)
    assert "Supercalifragilistic" not in broken.lines and not broken.ellipsized
    assert "".join(broken.lines).replace(" ", "") == text.replace(" ", "")


def test_wrapped_lines_are_balanced() -> None:
    font = font_for("x", "en", weight="regular")
    fitted = fit_text("Fresh spring picks, up to 30% off this week only", font, 420, 400,
                      size_px=36, min_px=12, max_lines=2)

    first, second = (get_font(str(font.path), font.index, 36).getlength(line)
                     for line in fitted.lines)
    assert abs(first - second) < 0.35 * max(first, second)


@pytest.mark.parametrize(("text", "language"), [(KOREAN, "ko"), (CHINESE, "zh"),
                                                ("A headline that is long for its box", "en")])
def test_shrink_to_fit_keeps_all_ink_inside_the_box(text: str, language: str) -> None:
    box = PixelBox(50, 60, 330, 200)
    block = TextBlock(TextRole.headline, text, font_for(text, language), box, "#111111", 90, 3)
    result = typeset(frame(), [block])

    placed = result.placed[0]
    assert placed.fitted.font_px < 90 and not placed.fitted.ellipsized
    assert box.contains(placed.ink)
    assert ink_outside(result.image, result.backing, box) == 0


def test_an_absurd_headline_in_a_tiny_box_is_ellipsized_and_reported() -> None:
    text = "An absurdly long headline " * 12
    box = PixelBox(20, 20, 200, 60)
    block = TextBlock(TextRole.headline, text, font_for(text, "en"), box, "#111111", 80, 2)
    result = typeset(frame(), [block], min_px=14)

    fitted = result.placed[0].fitted
    assert fitted.ellipsized
    assert fitted.lines[-1].endswith(ELLIPSIS)
    assert box.contains(result.placed[0].ink)
    assert ink_outside(result.image, result.backing, box) == 0


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_alignment_places_the_ink_in_the_box(align: str) -> None:
    box = PixelBox(40, 40, 560, 200)
    block = TextBlock(TextRole.subline, "Spring sale", font_for("x", "en"), box, "#111111",
                      40, 1, align=align)  # type: ignore[arg-type]
    ink = typeset(frame(), [block]).placed[0].ink

    expected = {"left": ink.x0 - box.x0, "right": box.x1 - ink.x1,
                "center": abs((ink.x0 + ink.x1) - (box.x0 + box.x1)) // 2}[align]
    assert expected <= 3


def test_button_text_sits_on_the_fill_and_reads() -> None:
    box = PixelBox(40, 300, 560, 400)
    block = TextBlock(TextRole.cta, "Shop now", font_for("x", "en"), box, "#767676", 36, 1,
                      fill="#808080")  # a colour that fails on the fill: corrected
    result = typeset(frame(), [block])

    placed = result.placed[0]
    assert placed.button is not None and box.contains(placed.button)
    under = result.backing[placed.ink.y0:placed.ink.y1, placed.ink.x0:placed.ink.x1]
    assert (under == (128, 128, 128)).all()
    assert hex_contrast(placed.block.color, "#808080") >= 4.5
    assert min_contrast(placed.block.color, under) >= 4.5


def test_underlay_panel_covers_the_text_block_in_the_backing() -> None:
    image = frame(120)
    head = TextBlock(TextRole.headline, "봄맞이 세일", font_for("봄맞이", "ko"),
                     PixelBox(60, 60, 540, 160), "#111111", 60, 1)
    sub = TextBlock(TextRole.subline, "Up to 30% off", font_for("x", "en", "regular"),
                    PixelBox(60, 180, 540, 240), "#111111", 30, 1)
    result = typeset(image, [head, sub], underlay=Underlay(color="#FFFFFF", opacity=0.8))

    for placed in result.placed:
        ink = placed.ink
        under = result.backing[ink.y0:ink.y1, ink.x0:ink.x1]
        assert (under == 228).all()  # 120 + (255 - 120) * 0.8
    assert (result.backing[5, 5] == 120).all()


def test_shadow_darkens_only_the_final_image() -> None:
    box = PixelBox(40, 40, 560, 200)
    block = TextBlock(TextRole.headline, "Sale", font_for("x", "en"), box, "#FFFFFF", 80, 1)
    plain = typeset(frame(180), [block])
    shadowed = typeset(frame(180), [block], shadow=True)

    assert (shadowed.backing == plain.backing).all()
    assert shadowed.image.astype(int).sum() < plain.image.astype(int).sum()


def test_empty_copy_is_skipped() -> None:
    block = TextBlock(TextRole.subline, "  ", font_for("x", "en"), PixelBox(0, 0, 100, 50),
                      "#111111", 20)

    assert typeset(frame(), [block]).placed == []
