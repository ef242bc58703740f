"""Font resolution: language defaults, coverage checks before rendering, fallbacks, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from adforge import fonts
from adforge.brandkit import FontRef
from adforge.errors import BrandKitError, MissingGlyphsError
from adforge.fonts import fc_language, font_cmap, missing_glyphs, resolve_font
from adforge.imaging.typeset import TextBlock, typeset
from adforge.specs import PixelBox, TextRole

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NO_FONT_HAS_IT = "\U0010fffd"  # last private-use code point: in no installed font

HEADLINES = [
    ("봄맞이 한정 세일", "ko"),
    ("Spring Sale, 30% off", "en"),
    ("春季限定新品", "zh"),
    ("春の限定セール", "ja"),
]


def rendered_ink(text: str, font: fonts.ResolvedFont) -> int:
    frame = np.full((200, 800, 3), 255, np.uint8)
    block = TextBlock(TextRole.headline, text, font, PixelBox(20, 20, 780, 180), "#000000", 60)
    result = typeset(frame, [block])
    return int((result.image < 128).any(axis=2).sum())


@pytest.mark.parametrize(("text", "language"), HEADLINES)
def test_headline_fonts_cover_every_character_and_draw_ink(text: str, language: str) -> None:
    font = resolve_font(FontRef(weight="bold"), text, language=language)

    cmap = font_cmap(str(font.path), font.index)
    assert all(ord(c) in cmap for c in text if not c.isspace())
    assert missing_glyphs(font, text) == ""
    assert rendered_ink(text, font) > 500


def test_language_default_is_the_cjk_face_for_korean() -> None:
    font = resolve_font(FontRef(weight="bold"), "봄맞이 한정 세일", language="ko-KR")

    assert "KR" in font.name
    assert "Bold" in font.path.name


def test_chinese_copy_with_an_english_language_tag_falls_back_to_a_cjk_font() -> None:
    font = resolve_font(FontRef(), "春季限定新品", language="en")

    assert "CJK" in font.name
    assert missing_glyphs(font, "春季限定新品") == ""


def test_brand_font_file_without_hangul_falls_back_and_logs_it(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="adforge.fonts"):
        font = resolve_font(FontRef(path=DEJAVU), "Sale 세일", language="en")

    assert font.path != DEJAVU
    assert missing_glyphs(font, "Sale 세일") == ""
    assert "falling back" in caplog.text


def test_brand_font_file_that_covers_the_text_is_used_as_given() -> None:
    font = resolve_font(FontRef(path=NOTO_CJK, index=1), "Hello 안녕", language="en")

    assert font.path == NOTO_CJK
    assert font.key.endswith("#1")
    assert "KR" in font.name


def test_a_character_no_font_has_raises_naming_it_and_the_font() -> None:
    with pytest.raises(MissingGlyphsError) as caught:
        resolve_font(FontRef(weight="bold"), f"Sale{NO_FONT_HAS_IT}", language="ko")

    message = str(caught.value)
    assert "U+10FFFD" in message
    assert "Noto Sans CJK KR" in message
    assert caught.value.characters == NO_FONT_HAS_IT


def test_whitespace_needs_no_glyph() -> None:
    font = resolve_font(FontRef(path=DEJAVU), "a b")

    assert missing_glyphs(font, " \t\n\u3000\u00a0a") == ""


def test_a_missing_font_file_is_a_brand_kit_error() -> None:
    with pytest.raises(BrandKitError, match="does not exist"):
        resolve_font(FontRef(path=Path("/nowhere/Brand.ttf")), "Sale")


def test_an_uninstalled_family_falls_back_to_the_language_default(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="adforge.fonts"):
        font = resolve_font(FontRef(family="No Such Family 123"), "Sale", language="en")

    assert missing_glyphs(font, "Sale") == ""
    assert "not installed" in caplog.text


def test_fontconfig_is_asked_once_not_per_rendition(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_font(FontRef(weight="bold"), "봄 세일", language="ko")

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("fontconfig was called again")

    monkeypatch.setattr(fonts.subprocess, "run", no_subprocess)
    for text in ("봄 세일", "여름 세일", "가을 세일 50%"):
        resolve_font(FontRef(weight="bold"), text, language="ko")


@pytest.mark.parametrize(("tag", "expected"), [
    ("ko-KR", "ko"), ("zh", "zh-cn"), ("zh-Hant", "zh-tw"), ("zh-HK", "zh-hk"),
    ("ja_JP", "ja"), ("en", "en"),
])
def test_language_tags_map_to_fontconfig_languages(tag: str, expected: str) -> None:
    assert fc_language(tag) == expected
