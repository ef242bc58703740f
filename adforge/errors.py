"""The exception hierarchy, in one place.

    AdForgeError                 base of everything AdForge raises on purpose
    ├── InputError               bad user input: names the item, the field and the fix
    │   ├── ImageInputError      an input image that cannot be used
    │   ├── BriefError           one or more bad brief rows (all of them, together)
    │   ├── BrandKitError        a brand kit that does not validate
    │   └── MissingGlyphsError   copy that the chosen fonts cannot draw
    ├── StageError               a stage backend failed on one item
    └── TransientError           storage / database / network hiccup: worth a retry
"""

from __future__ import annotations


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
            "or install one (for Korean/Chinese/Japanese: Debian package fonts-noto-cjk)",
            item=item,
            field=field,
        )
        self.characters = characters
        self.font = font


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
