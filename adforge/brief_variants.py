"""Variants in a brief: the `variants`, `styles` and `variant` columns.

- `variants` (a whole number, default 1, or the run's default): backdrop variants of the
  row, each with its own seed (the row's seed, then the next ones);
- `styles` (`ocean|warm|studio-dark`): the styles the backdrop variants take in turn
  (as many variants as styles at least);
- `variant` (`A`, `B`, ...): a copy variant's label, when several rows share a SKU with
  different copy; `(sku, variant)` must be unique.

`expand_variants` turns each valid row into one `BriefRow` per variant, each with a
stable variant id (`adforge.variants.variant_id`) and its record key.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from adforge.brief_cells import MAX_SEED, check_style
from adforge.errors import RowError
from adforge.variants import item_key, variant_id

MAX_VARIANTS = 12  # backdrop variants of one row
LABEL = re.compile(r"^[A-Za-z0-9_]{1,16}$")
STYLE_SEPARATORS = re.compile(r"\s*[|,;]\s*")


def parse_variants(value: str, default: int = 1) -> tuple[int, str | None]:
    if not value:
        return default, None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number.is_integer() or not 1 <= number <= MAX_VARIANTS:
        return default, (f"variants '{value}' is not a whole number from 1 to {MAX_VARIANTS}; "
                         "give how many backdrop variants to draft, or leave it empty for 1")
    return int(number), None


def parse_styles(value: str, brand_styles: set[str] | None) -> tuple[list[str], str | None]:
    """The styles backdrop variants take in turn; each must be one of the kit's."""
    names = [name for name in STYLE_SEPARATORS.split(value.strip()) if name] if value else []
    for name in names:
        _, problem = check_style(name, brand_styles)
        if problem is not None:
            return [], problem.replace(", or leave it empty for the brand's default style",
                                       ", or remove it from the list")
    return names, None


def parse_label(value: str) -> tuple[str, str | None]:
    if not value or LABEL.match(value):
        return value, None
    return value, (f"variant '{value}' is not a usable label; use up to 16 letters, digits "
                   "or '_' (A, B, summer_1), one per row of the same sku")


def variant_cells(cells: dict[str, str], brand_styles: set[str] | None,
                  default_variants: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A row's variant fields, and (column, problem) for each bad cell."""
    count, count_problem = parse_variants(cells.get("variants", ""), default_variants)
    styles, styles_problem = parse_styles(cells.get("styles", ""), brand_styles)
    label, label_problem = parse_label(cells.get("variant", ""))
    problems = [(column, problem) for column, problem in (
        ("variants", count_problem), ("styles", styles_problem), ("variant", label_problem))
        if problem is not None]
    return {"count": max(count, len(styles)), "styles": styles, "label": label}, problems


def duplicate_variant_errors(rows: Iterable[tuple[int, dict[str, str]]]) -> list[RowError]:
    """Rows of one SKU must differ in their `variant` label. SKUs and labels name files
    and folders, so they are compared ignoring case (macOS and Windows do)."""
    first_seen: dict[tuple[str, str], tuple[int, str]] = {}
    errors = []
    for number, cells in rows:
        sku, label = cells.get("sku", ""), cells.get("variant", "")
        if not sku:
            continue
        key = (sku.casefold(), label.casefold())
        if key not in first_seen:
            first_seen[key] = (number, sku)
            continue
        other_row, other_sku = first_seen[key]
        same = "" if other_sku == sku else f" (as '{other_sku}'; case is ignored)"
        if label:
            errors.append(RowError(number, "variant", f"variant '{label}' of sku '{sku}' is "
                                   f"also on row {other_row}{same}; give each copy variant "
                                   "of a product its own label (A, B, ...)"))
        else:
            errors.append(RowError(number, "sku", f"sku '{sku}' is also used on row "
                                   f"{other_row}{same}; give every product a unique SKU "
                                   "(or label each copy variant of it in a `variant` "
                                   "column: A, B, ...)"))
    return errors


def expand_variants(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per variant: a copy variant's row times its backdrop variants. Each gets
    its label (`A`, `A2`, `v2`...), a seed of its own, its style and variant id, and
    its record key (the SKU alone when the product has one variant)."""
    expanded = [variant for row in rows for variant in _backdrop_variants(row)]
    per_sku: dict[str, int] = defaultdict(int)
    for row in expanded:
        per_sku[row["sku"]] += 1
    for row in expanded:
        row["key"] = item_key(row["sku"], row["variant"], per_sku[row["sku"]] > 1)
    return expanded


def _backdrop_variants(row: dict[str, Any]) -> list[dict[str, Any]]:
    spec = row.pop("variant_spec")
    count, styles, label = spec["count"], spec["styles"], spec["label"]
    made = []
    for index in range(count):
        seed = (row["seed"] + index) % (MAX_SEED + 1)
        style = styles[index % len(styles)] if styles else row["style"]
        name = (label or "v") + (str(index + 1) if count > 1 or not label else "")
        made.append(row | {"seed": seed, "style": style, "variant_label": name,
                           "copy_variant": label,
                           "variant": variant_id(row["sku"], name, seed, style)})
    return made
