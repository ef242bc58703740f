"""Font resolution: brand font references to font files that can draw the copy.

A `FontRef` names a file (TTF/OTF/TTC + face index) or a fontconfig family; without
either, the system default for the copy's language is used (`fc-match :lang=ko`, ...).
Coverage is checked BEFORE rendering, against the font's cmap: when the chosen font
lacks glyphs for some characters, a system font that covers the whole text is used
instead (and the fallback is logged); when no installed font covers them,
`MissingGlyphsError` names the characters and the font.

fontconfig is asked through `fc-match` / `fc-list`; answers and cmaps are cached per
process, so a campaign pays for each lookup once, not once per rendition.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from fontTools.ttLib import TTFont

from adforge.brandkit import FontRef
from adforge.errors import BrandKitError, MissingGlyphsError

log = logging.getLogger(__name__)

# Characters that need no glyph: spaces, line breaks, and invisible format controls.
_NO_GLYPH_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}
_FC_FORMAT = "%{file}|%{index}|%{family}\\n"
_FC_TIMEOUT_S = 10
_NO_FONT = "(none found: install fontconfig and fonts-noto-cjk, or set a brand font file)"


@dataclass(frozen=True)
class ResolvedFont:
    """A concrete font face: file, face index inside a collection, and a display name."""

    path: Path
    index: int
    name: str

    @property
    def key(self) -> str:
        """`path#index`, as reported in `FitReport.font`."""
        return f"{self.path}#{self.index}"


def resolve_font(ref: FontRef, text: str, *, language: str = "en") -> ResolvedFont:
    """The font face that draws `text` for this reference (see the module docstring)."""
    path = str(ref.path) if ref.path is not None else None
    return _resolve(path, ref.index, ref.family, ref.weight, text, fc_language(language))


def check_font_file(ref: FontRef, role: str) -> None:
    """Raise BrandKitError, naming the kit's font `role`, when the file a brand font
    names cannot be used: a run checks this before any work, not at its first ad."""
    if ref.path is None:
        return
    try:
        _font_from_file(str(ref.path), ref.index)
        font_cmap(str(ref.path), ref.index)
    except BrandKitError as exc:
        raise BrandKitError(f"brand kit font '{role}': {exc}", item=exc.item,
                            field=f"fonts.{role}") from exc
    except Exception as exc:  # fontTools raises many types on a damaged table
        raise BrandKitError(f"brand kit font '{role}': {ref.path} has no usable character "
                            f"map ({exc}); use a TTF, OTF or TTC file",
                            item=str(ref.path), field=f"fonts.{role}") from exc


def missing_glyphs(font: ResolvedFont, text: str) -> str:
    """The distinct characters of `text` (in order) that `font` has no glyph for."""
    cmap = font_cmap(str(font.path), font.index)
    return "".join(c for c in _needed_characters(text) if ord(c) not in cmap)


def fc_language(language: str) -> str:
    """A fontconfig language tag for a BCP-47 code: ko-KR -> ko, zh-Hant -> zh-tw."""
    tag = language.strip().lower().replace("_", "-")
    primary, _, rest = tag.partition("-")
    if primary == "zh":
        if any(part in rest for part in ("hant", "tw")):
            return "zh-tw"
        return "zh-hk" if "hk" in rest else "zh-cn"
    return primary or "en"


@lru_cache(maxsize=64)
def font_cmap(path: str, index: int) -> frozenset[int]:
    """Code points the face has glyphs for (fontTools; one face of a TTC only)."""
    font = _open_face(path, index)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def _open_face(path: str, index: int) -> TTFont:
    if path.lower().endswith((".ttc", ".otc")):
        return TTFont(path, fontNumber=index, lazy=True)
    return TTFont(path, lazy=True)


# --- resolution -------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _resolve(path: str | None, index: int, family: str | None, weight: str, text: str,
             lang: str) -> ResolvedFont:
    chosen = _chosen_font(path, index, family, weight, lang)
    if chosen is None:
        fallback = _covering_font(text, _needed_characters(text), weight, lang)
        if fallback is None:
            raise MissingGlyphsError(_needed_characters(text), _NO_FONT)
        return fallback
    missing = missing_glyphs(chosen, text)
    if not missing:
        return chosen
    fallback = _covering_font(text, missing, weight, lang)
    if fallback is None:
        raise MissingGlyphsError(missing, chosen.name)
    log.info("font %s lacks glyphs for %r; falling back to %s (%s)",
             chosen.name, missing, fallback.name, fallback.key)
    return fallback


def _chosen_font(path: str | None, index: int, family: str | None, weight: str,
                 lang: str) -> ResolvedFont | None:
    if path is not None:
        return _font_from_file(path, index)
    if family:
        found = _family_font(family, weight)
        if found is not None:
            return found
        log.warning("font family %r is not installed; using the %s default", family, lang)
    return _fc_match(f":lang={lang}{_style(weight)}")


def _font_from_file(path: str, index: int) -> ResolvedFont:
    file = Path(path)
    if not file.is_file():
        raise BrandKitError(f"font file {file} does not exist; fix the brand kit's font path "
                            "or use a fontconfig family instead", item=str(file), field="fonts")
    return ResolvedFont(file, index, _font_display_name(path, index))


@lru_cache(maxsize=64)
def _font_display_name(path: str, index: int) -> str:
    try:
        font = _open_face(path, index)
    except Exception as exc:  # any parse failure means "not a font file"
        raise BrandKitError(f"{path} is not a readable font file ({exc}); use a TTF, OTF or "
                            "TTC file", item=path, field="fonts") from exc
    try:
        return font["name"].getDebugName(4) or Path(path).stem
    finally:
        font.close()


def family_installed(family: str, weight: str = "regular") -> bool:
    """Whether fontconfig has a face of this family (else the language default is used)."""
    return _family_font(family, weight) is not None


def _family_font(family: str, weight: str) -> ResolvedFont | None:
    """The installed face of this family, or None when fontconfig substitutes another."""
    face = _fc_match_face(f"{_escape(family)}{_style(weight)}")
    if face is None or family.casefold() not in {name.casefold() for name in face.families}:
        return None
    return face.font


def _covering_font(text: str, missing: str, weight: str, lang: str) -> ResolvedFont | None:
    """A system font with glyphs for every character of `text`, or None."""
    for candidate in _fallback_candidates(missing, weight, lang):
        if not missing_glyphs(candidate, text):
            return candidate
    return None


def _fallback_candidates(missing: str, weight: str, lang: str) -> list[ResolvedFont]:
    charset = " ".join(f"{ord(c):X}" for c in sorted(set(missing)))
    style = _style(weight)
    candidates: list[ResolvedFont | None] = [
        _fc_match(f":lang={script_language(missing, lang)}{style}"),
        _fc_match(f":charset={charset}{style}"),
    ]
    candidates.extend(_fc_list(f":charset={charset}", weight))
    return [c for c in candidates if c is not None]


def script_language(characters: str, lang: str) -> str:
    """The fontconfig language whose fonts are likeliest to draw these characters."""
    if lang in ("ko", "ja", "zh-cn", "zh-tw", "zh-hk"):
        return lang
    for char in characters:
        name = unicodedata.name(char, "")
        if name.startswith(("HANGUL", "KOREAN")):
            return "ko"
        if name.startswith(("HIRAGANA", "KATAKANA")):
            return "ja"
        if name.startswith("CJK"):
            return "zh-cn"
    return lang


def _needed_characters(text: str) -> str:
    seen: dict[str, None] = {}
    for char in text:
        if unicodedata.category(char) not in _NO_GLYPH_CATEGORIES:
            seen.setdefault(char)
    return "".join(seen)


# --- fontconfig -------------------------------------------------------------------------


def _style(weight: str) -> str:
    return ":style=Bold" if weight == "bold" else ""


def _escape(family: str) -> str:
    return "".join(f"\\{c}" if c in "\\-:," else c for c in family)


@lru_cache(maxsize=256)
def _fc_match_face(pattern: str) -> _Face | None:
    faces = _run_fontconfig("fc-match", pattern)
    return faces[0] if faces else None


def _fc_match(pattern: str) -> ResolvedFont | None:
    face = _fc_match_face(pattern)
    return face.font if face else None


@lru_cache(maxsize=128)
def _fc_list(pattern: str, weight: str) -> tuple[ResolvedFont, ...]:
    """Installed faces matching `pattern`, likeliest first: sans, matching weight, not mono."""
    rows = [face.font for face in _run_fontconfig("fc-list", pattern)]

    def rank(font: ResolvedFont) -> tuple[int, int, int, str]:
        name = font.name.casefold()
        bold = "bold" in font.path.name.casefold()
        return ("mono" in name, "sans" not in name, bold != (weight == "bold"), font.key)

    return tuple(sorted(rows, key=rank))


class _Face(NamedTuple):
    font: ResolvedFont
    families: tuple[str, ...]  # every family name fontconfig knows the face by


def _run_fontconfig(tool: str, pattern: str) -> list[_Face]:
    if shutil.which(tool) is None:
        log.warning("%s is not installed: only brand font files can be used "
                    "(install fontconfig)", tool)
        return []
    result = subprocess.run([tool, "-f", _FC_FORMAT, pattern], capture_output=True,
                            text=True, timeout=_FC_TIMEOUT_S, check=False)
    fonts = []
    for line in result.stdout.splitlines():
        file, _, rest = line.partition("|")
        index, _, families = rest.partition("|")
        if not file or Path(file).suffix.lower() not in (".ttf", ".otf", ".ttc", ".otc"):
            continue
        names = tuple(n for n in families.split(",") if n) or (Path(file).stem,)
        fonts.append(_Face(ResolvedFont(Path(file), int(index or 0), names[0]), names))
    return fonts
