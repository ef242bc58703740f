"""Line breaking: text into unbreakable atoms, atoms into lines.

Latin and Korean break at spaces; Chinese and Japanese also between ideographs and
kana, with kinsoku (no closing punctuation at a line start, no opening punctuation at
a line end). Widths come from the caller (a function of a piece of text), so this
module measures nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

# Kinsoku: characters that may not start a line, and characters that may not end one.
NO_LINE_START = frozenset(
    "、。，．・：；？！ー…‥）」』】〕〉》〗〙〟’”｝］｠»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ々〻,.;:!?)]}%"
)
NO_LINE_END = frozenset("（「『【〔〈《〖〘〝‘“｛［｟«([{")
_CJK_RANGES = (
    (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
    (0x31F0, 0x31FF),  # katakana extensions
    (0x3400, 0x4DBF),  # ideographs, extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width and half-width forms
    (0x20000, 0x3FFFF),  # ideographs, extensions B and later
)


class Atom(NamedTuple):
    """A piece of text that wraps as a unit."""

    text: str
    space_before: bool  # a space separates it from the previous atom
    new_line: bool = False  # an explicit line break precedes it


def is_cjk_breakable(char: str) -> bool:
    """Chinese/Japanese characters: a line may break before or after them (Hangul not)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def may_break_between(before: str, after: str) -> bool:
    if before in NO_LINE_END or after in NO_LINE_START:
        return False
    return is_cjk_breakable(before) or is_cjk_breakable(after)


def split_atoms(text: str) -> list[Atom]:
    """Atoms of `text`: space-separated words, further split between CJK characters."""
    atoms = []
    for p, paragraph in enumerate(text.splitlines()):
        for w, word in enumerate(paragraph.split()):
            for c, piece in enumerate(_unbreakable_pieces(word)):
                atoms.append(Atom(piece, w > 0 and c == 0, p > 0 and w == 0 and c == 0))
    return atoms


def _unbreakable_pieces(word: str) -> list[str]:
    pieces, current = [], word[0]
    for before, after in zip(word, word[1:], strict=False):
        if may_break_between(before, after):
            pieces.append(current)
            current = after
        else:
            current += after
    pieces.append(current)
    return pieces


def wrap_atoms(atoms: list[Atom], width: Callable[[str], float], max_width: float, *,
               split_words: bool) -> list[str] | None:
    """Greedy wrapping; None when a word is too wide and `split_words` is False."""
    lines: list[str] = []
    current, current_width = "", 0.0
    for atom in atoms:
        if atom.new_line:
            lines.append(current)
            current, current_width = "", 0.0
        gap = width(" ") if atom.space_before and current else 0.0
        atom_width = width(atom.text)
        if current_width + gap + atom_width <= max_width:
            current += (" " if gap else "") + atom.text
            current_width += gap + atom_width
            continue
        if current:
            lines.append(current)
        if atom_width <= max_width:
            current, current_width = atom.text, atom_width
            continue
        if not split_words:
            return None
        pieces = _split_word(atom.text, width, max_width)
        lines.extend(pieces[:-1])
        current, current_width = pieces[-1], width(pieces[-1])
    lines.append(current)
    return lines


def balanced_lines(atoms: list[Atom], width: Callable[[str], float], max_width: float,
                   count: int) -> list[str]:
    """The same number of lines as greedy wrapping, with the narrowest measure: no widows."""
    low, high = 0.0, float(max_width)
    best = wrap_atoms(atoms, width, high, split_words=False) or []
    while high - low > 1.0:
        middle = (low + high) / 2
        lines = wrap_atoms(atoms, width, middle, split_words=False)
        if lines is not None and len(lines) <= count:
            best, high = lines, middle
        else:
            low = middle
    return best


def _split_word(word: str, width: Callable[[str], float], max_width: float) -> list[str]:
    """Last resort: break inside a word, between any two characters."""
    pieces, current, current_width = [], "", 0.0
    for char in word:
        char_width = width(char)
        if current and current_width + char_width > max_width:
            pieces.append(current)
            current, current_width = "", 0.0
        current += char
        current_width += char_width
    pieces.append(current)
    return pieces
