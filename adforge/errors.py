"""The exception hierarchy, in one place.

    AdForgeError                 base of everything AdForge raises on purpose
    ├── InputError               bad user input: names the item, the field and the fix
    │   ├── ImageInputError      an input image that cannot be used
    │   ├── BriefError           one or more bad brief rows (all of them, together)
    │   ├── BrandKitError        a brand kit that does not validate
    │   ├── MissingGlyphsError   copy that the chosen fonts cannot draw
    │   ├── SettingsError        a setting (environment, .env, option) that does not validate
    │   └── PreflightError       the run cannot start: output folder, database, platforms
    ├── StageError               a stage backend failed on one item
    └── TransientError           storage / database / network hiccup: worth a retry
"""

from __future__ import annotations

import unicodedata


class AdForgeError(Exception):
    """Base class of AdForge's own errors."""


class InputError(AdForgeError):
    """Bad input. The message names the item, the field and how to fix it."""

    def __init__(self, message: str, *, item: str = "", field: str = "") -> None:
        super().__init__(message)
        self.item = item
        self.field = field


class ImageInputError(InputError):
    """An input image that is missing, unreadable, too large or too small."""


class BrandKitError(InputError):
    """A brand kit file that does not validate."""


class MissingGlyphsError(InputError):
    """The copy contains characters that no usable font can draw."""

    def __init__(self, characters: str, font: str, *, item: str = "", field: str = "") -> None:
        shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in characters)
        super().__init__(
            f"font {font} has no glyphs for {shown}; set a brand font that covers them "
            f"or install one ({font_package_hint(characters)})",
            item=item,
            field=field,
        )
        self.characters = characters
        self.font = font


class SettingsError(InputError):
    """A setting that does not validate; the message names the environment variable."""


class PreflightError(InputError):
    """A check made before any work (output folder, database, platforms, fonts, logo)."""


# Debian packages with fonts for the scripts whose glyphs are most often missing: the
# first word of a character's Unicode name picks the script.
_FONT_PACKAGES = (
    (("HANGUL", "CJK", "HIRAGANA", "KATAKANA", "BOPOMOFO", "IDEOGRAPHIC"),
     "for Korean/Chinese/Japanese: Debian package fonts-noto-cjk"),
    (("THAI",), "for Thai: Debian package fonts-thai-tlwg or fonts-noto-core"),
)
_EMOJI_HINT = "for emoji: Debian package fonts-noto-color-emoji"
_OTHER_HINT = "for other scripts: Debian package fonts-noto-core covers most of them"


def font_package_hint(characters: str) -> str:
    """Which font package would draw these characters: the hint a glyph error ends with."""
    hints: dict[str, None] = {}
    for char in characters:
        name = unicodedata.name(char, "")
        found = next((hint for prefixes, hint in _FONT_PACKAGES if name.startswith(prefixes)),
                     None)
        if found is None:
            found = _EMOJI_HINT if _is_emoji(char) else _OTHER_HINT
        hints.setdefault(found)
    return "; ".join(hints) or _OTHER_HINT


def _is_emoji(char: str) -> bool:
    """Pictographs and symbols of the emoji blocks (faces, objects, flags, dingbats)."""
    code = ord(char)
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF
            or unicodedata.category(char) == "So")


class RowError(AdForgeError):
    """One problem in one brief row (not raised alone: collected into BriefError)."""

    def __init__(self, row: int, column: str, reason: str, sku: str = "") -> None:
        super().__init__(f"row {row}, column '{column}': {reason}")
        self.row = row
        self.column = column
        self.reason = reason
        self.sku = sku

    @property
    def item(self) -> str:
        """The product this error belongs to: its SKU, or its row when it has none."""
        return self.sku or f"row-{self.row}"


class BriefError(InputError):
    """Every row error of a brief, reported together."""

    def __init__(self, source: str, errors: list[RowError]) -> None:
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"brief {source} has {len(errors)} problem(s):\n{lines}", item=source)
        self.errors = errors


class StageError(AdForgeError):
    """A stage backend failed on one item (recorded; the batch goes on)."""


class TransientError(AdForgeError):
    """A fault that may pass on its own (storage, database, network): retried."""
