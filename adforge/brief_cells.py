"""The checks of single brief cells: each turns a cell's text into a value and a problem.

Every check returns `(value, problem)`: the problem is None, or a sentence that says what
is wrong with the cell and how to fix it (`adforge.brief` puts it in a RowError with the
row and the column). The checks that need the brief's folder (image paths) live in
`adforge.brief`; these need nothing but the cell.
"""

from __future__ import annotations

import math
import re
import zlib

from adforge.formats import ALL_PLATFORMS, FormatOverride, parse_row_formats
from adforge.specs import rendition_spec
from adforge.text_mode import TEXT_MODES

SUPPORTED_LANGUAGES = frozenset({
    "en", "ko", "zh", "ja",
    "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "fi", "pl", "cs", "tr", "id",
    "vi", "ru",
})
SAFE_SKU = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# an object in a bucket: what an image cell (or a brand kit's mood image) may point at
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S.*$")
PLATFORM_SEPARATORS = re.compile(r"[,;|\s]+")
MAX_SEED = 2**32 - 1
DEFAULT_REFERENCE_STRENGTH = 0.6


def default_seed(sku: str) -> int:
    """A stable seed for a SKU (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(sku.encode("utf-8"))


def sku_problem(sku: str) -> str | None:
    rule = ("use only letters, digits, '.', '_' and '-', at most 64 characters, "
            "not starting with '.'")
    if not sku:
        return "sku is empty; give every product a unique SKU such as 'MUG-001'"
    if "/" in sku or "\\" in sku or ".." in sku:
        return f"sku '{sku}' contains a path separator or '..', unsafe in file names; {rule}"
    if sku.startswith("."):
        return f"sku '{sku}' starts with '.', which hides files; {rule}"
    if len(sku) > 64:
        return f"sku '{sku[:20]}…' is {len(sku)} characters long; {rule}"
    if not SAFE_SKU.match(sku):
        bad = "".join(sorted({c for c in sku if not re.match(r"[A-Za-z0-9._-]", c)}))
        return f"sku '{sku}' contains {bad!r}; {rule}"
    return None


def check_style(value: str, brand_styles: set[str] | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    if brand_styles is not None and value not in brand_styles:
        known = ", ".join(sorted(brand_styles)) or "(the brand kit has none)"
        return value, (f"style '{value}' is unknown; use one of: {known}, or leave it empty "
                       "for the brand's default style")
    return value, None


def check_language(value: str) -> tuple[str, str | None]:
    """A BCP-47 tag whose language we can set: 'en', 'ko', 'zh-Hans', 'pt-BR'..."""
    if not value:
        return "en", None
    parts = value.replace("_", "-").split("-")
    primary = parts[0].lower()
    rest = [p.title() if len(p) == 4 else p.upper() if len(p) == 2 else p for p in parts[1:]]
    tag = "-".join([primary, *rest])
    if primary not in SUPPORTED_LANGUAGES:
        known = ", ".join(sorted(SUPPORTED_LANGUAGES))
        return tag, f"language '{value}' is not supported; use one of: {known}"
    return tag, None


def parse_platforms(value: str) -> tuple[list[str] | None, str | None]:
    """The row's own platforms in the order written, or None: the run's platforms."""
    platforms: list[str] = []
    problems: list[str] = []
    for name in filter(None, PLATFORM_SEPARATORS.split(value.lower())):
        try:
            rendition_spec(name)
        except ValueError as exc:
            problems.append(_platform_problem(name, exc))
            continue
        if name not in platforms:
            platforms.append(name)
    return platforms or None, "; ".join(problems) or None


def parse_formats(value: str) -> tuple[dict[str, FormatOverride] | None, str | None]:
    """The row's delivery formats (`webp`, `jpeg:92`, `blog_header=png; ...`), or None:
    the platforms' own (the preset's, as the brand kit changes them)."""
    if not value.strip():
        return None, None
    try:
        table = parse_row_formats(value)
    except ValueError as exc:
        return None, f"format: {exc}"
    for platform in table:
        if platform != ALL_PLATFORMS:
            try:
                rendition_spec(platform)
            except ValueError as exc:
                return None, f"format: {_platform_problem(platform, exc)}"
    return table or None, None


def _platform_problem(name: str, exc: ValueError) -> str:
    if re.fullmatch(r"\d+x\d+", name):
        return f"platform size '{name}' is out of range; width and height must be 16 to 8192"
    return str(exc)


def parse_seed(value: str, sku: str) -> tuple[int, str | None]:
    if not value:
        return default_seed(sku), None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not number.is_integer() or not 0 <= number <= MAX_SEED:
        return 0, (f"seed '{value}' is not a whole number from 0 to {MAX_SEED}; "
                   "fix it or leave it empty to derive one from the sku")
    return int(number), None


def parse_reference_strength(value: str) -> tuple[float, str | None]:
    """How far FLUX may move from the reference image: near 0 keeps it, 1 replaces it."""
    if not value:
        return DEFAULT_REFERENCE_STRENGTH, None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0.0 < number <= 1.0:  # NaN fails too
        return DEFAULT_REFERENCE_STRENGTH, (
            f"reference_strength '{value}' is not a number above 0 and at most 1; write "
            "e.g. 0.3 to stay close to the reference or 0.9 to move far from it, or leave "
            f"it empty for {DEFAULT_REFERENCE_STRENGTH}")
    return number, None


def check_text_mode(value: str) -> tuple[str | None, str | None]:
    """`edit` or `typeset` (any case); empty: the brand kit's or the run's mode."""
    if not value:
        return None, None
    mode = value.lower()
    if mode not in TEXT_MODES:
        return None, (f"text_mode '{value}' is unknown; use one of: {', '.join(TEXT_MODES)} "
                      "(edit: Qwen-Image-Edit writes the copy; typeset: the brand's fonts), "
                      "or leave it empty for the brand kit's or the run's mode")
    return mode, None
