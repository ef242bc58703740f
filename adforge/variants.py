"""Variants of a product: ids, the draft score, and which variants a run keeps.

A brief row may ask for several backdrop variants (`variants`, `styles`), and several
rows may share a SKU with different copy (`variant` labels `A`, `B`, ...). Each variant
is rendered as its own item: its record key is the SKU when the product has one variant,
and `<sku>/<variant id>` when it has several, so its files are `<sku>/<variant>/...` and
every record (products, renditions, quality, reviews, stage metrics) names the variant.

    variant_id(sku, label, seed, style)   stable: the same row gives the same id
    split_key(key)                        (sku, variant id or "")
    draft_score(measures, quality)        one number from a draft's measured gates
    auto_selection(scores, keep)          the top `keep` variants per product
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KEY_SEPARATOR = "/"
AUTO = "auto"  # who selected, when nobody did

# Each score term: (gate measure, weight, for an at-least gate the margin over its
# threshold that earns full marks). An at-most gate (ΔE, the copy over the product)
# earns the share of its allowance left unused. Terms are clipped to 0..1, so no one
# swamps another.
SCORE_TERMS = (
    ("min_contrast", 0.35, 4.5),  # contrast of the copy above its threshold
    ("text_product_overlap", 0.25, None),  # clean area: the copy clear of the product
    ("delta_e", 0.15, None),  # product colour kept
    ("segment_confidence", 0.25, 0.5),  # the cutout's confidence
)


def variant_id(sku: str, label: str, seed: int, style: str | None) -> str:
    """`<label>-<6 hex>`: the label a person reads, and a digest of what makes the
    variant (sku, label, seed, style), so ids never collide and never drift."""
    digest = hashlib.sha256(f"{sku}|{label}|{seed}|{style or ''}".encode()).hexdigest()
    return f"{label}-{digest[:6]}"


def item_key(sku: str, variant: str, several: bool) -> str:
    """The record key of one variant: the SKU alone when the product has one variant."""
    return f"{sku}{KEY_SEPARATOR}{variant}" if several else sku


def split_key(key: str) -> tuple[str, str]:
    """(sku, variant id) of a record key; the variant is "" for a one-variant product."""
    sku, _, variant = key.partition(KEY_SEPARATOR)
    return sku, variant


@dataclass(frozen=True)
class VariantScore:
    """One drafted variant and how good its draft measured."""

    key: str  # the record key
    sku: str
    variant: str  # the variant id
    score: float
    terms: dict[str, float] = field(default_factory=dict)  # term -> its weighted part
    copy: str = ""  # the copy variant's label (A, B): each copy variant keeps its own best


@dataclass(frozen=True)
class Selection:
    """Which variants of each product go on to the final pass, and who chose them."""

    kept: dict[str, list[str]]  # sku -> record keys kept
    by: str  # "auto", a CLI user, or the Prefect UI's reviewer
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def keys(self) -> set[str]:
        return {key for keys in self.kept.values() for key in keys}


def draft_score(measures: dict[str, float],
                thresholds: dict[str, float]) -> tuple[float, dict[str, float]]:
    """A draft's score in 0..1 and its weighted terms (see SCORE_TERMS). A measure the
    draft lacks counts as 0."""
    terms: dict[str, float] = {}
    for measure, weight, full_margin in SCORE_TERMS:
        value, threshold = measures.get(measure), thresholds.get(measure)
        if value is None or threshold is None:
            terms[measure] = 0.0
            continue
        if full_margin is None:  # at most: the share of the allowance left unused
            room = 1.0 - value / threshold if threshold > 0 else float(value <= 0)
        else:
            room = (value - threshold) / full_margin
        terms[measure] = round(weight * min(1.0, max(0.0, room)), 4)
    return round(sum(terms.values()), 4), terms


def auto_selection(scores: list[VariantScore], keep: int) -> Selection:
    """The `keep` best-scoring backdrop variants of each product's copy variant (an A/B
    copy test keeps A's best and B's best; ties: the earlier variant id, so the choice
    is deterministic)."""
    groups: dict[tuple[str, str], list[VariantScore]] = {}
    for item in scores:
        groups.setdefault((item.sku, item.copy), []).append(item)
    kept: dict[str, list[str]] = {}
    for (sku, _), items in groups.items():
        best = sorted(items, key=lambda s: (-s.score, s.variant))[:keep]
        kept.setdefault(sku, []).extend(item.key for item in best)
    return Selection(kept=kept, by=AUTO)


def parse_choice(sku: str, chosen: list[str], scores: list[VariantScore]) -> list[str]:
    """The record keys a person chose for `sku`, from variant ids or labels (`A`,
    `A-3f2c1a`); an unknown one raises ValueError naming the choices."""
    mine = [item for item in scores if item.sku == sku]
    if not mine:
        raise ValueError(f"{sku} has no drafted variants; choose among "
                         f"{', '.join(sorted({s.sku for s in scores}))}")
    keys = []
    for want in chosen:
        match = [s for s in mine if want in (s.variant, s.variant.rsplit("-", 1)[0], s.key)]
        if len(match) != 1:
            raise ValueError(f"{sku}: variant '{want}' is not one of "
                             f"{', '.join(s.variant for s in mine)}")
        keys.append(match[0].key)
    return keys


def as_json(selection: Selection) -> dict[str, Any]:
    return {"kept": selection.kept, "by": selection.by, "at": selection.at.isoformat()}
