"""Quality gates: the named checks a canvas must pass before it is delivered.

Each gate reads one measure of the canvas (what the stages measured: the text stage's
checks of the finished ad, the composite's ΔE, the segmenter's confidence) and compares
it with its threshold in `QualitySettings` (`ADFORGE_QUALITY__...`). A canvas that fails
a gate is repaired where a repair can help (adforge.stages.gate), and held for a
person's review when none did (adforge.review). Every gate's value and verdict is
recorded (the `quality` table).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from adforge.settings import QualitySettings


@dataclass(frozen=True)
class Gate:
    """One named check: its measure must be at least (or at most) its threshold."""

    name: str
    meaning: str
    threshold: Callable[[QualitySettings, str], float | None]  # None: not checked here
    at_least: bool = True
    own_limit: str | None = None  # the measure holding a canvas's own threshold, if any

    def passes(self, value: float, threshold: float) -> bool:
        compare = operator.ge if self.at_least else operator.le
        return bool(compare(value, threshold))


def _fixed(value: float) -> Callable[[QualitySettings, str], float]:
    return lambda quality, platform: value


GATES: tuple[Gate, ...] = (
    Gate("copy_exact", "the copy is set as written: nothing ellipsized or dropped; a text "
         "edit is accepted only verified by OCR", _fixed(1.0)),
    Gate("min_contrast", "worst WCAG contrast of the copy on the pixels under it",
         lambda q, p: q.min_contrast),
    Gate("text_product_overlap", "share of a text box lying over the product",
         lambda q, p: q.max_text_product_overlap, at_least=False),
    Gate("text_inside_safe", "every text box inside the platform's safe area", _fixed(1.0)),
    Gate("logo_inside_safe", "the logo inside the safe area", _fixed(1.0)),
    Gate("product_inside", "the product inside the frame", _fixed(1.0)),
    Gate("delta_e", "product colour change: mean ΔE in the matte",
         lambda q, p: q.max_delta_e, at_least=False),
    Gate("product_ssim", "SSIM of the delivered product region against the cutout",
         lambda q, p: q.min_product_ssim),
    Gate("sharpness_ratio", "variance of the Laplacian in the product region over the "
         "source's", lambda q, p: q.min_sharpness_ratio),
    Gate("segment_confidence", "the segmenter's confidence in the cutout",
         lambda q, p: q.min_segment_confidence),
    Gate("product_visible", "share of the planned product box its matte covers",
         lambda q, p: q.min_product_visible),
    Gate("bytes", "size of the delivered file, where its format has a byte budget",
         lambda q, p: q.max_bytes.get(p), at_least=False, own_limit="byte_budget"),
)
GATE_NAMES = tuple(gate.name for gate in GATES)
AT_MOST = frozenset(gate.name for gate in GATES if not gate.at_least)  # upper bounds


class GateResult(BaseModel):
    gate: str
    value: float
    threshold: float
    passed: bool

    def words(self) -> str:
        """`min_contrast 3.2 < 4.5`: the measure against its threshold."""
        at_least = _gate(self.gate).at_least
        if self.passed:
            sign = "≥" if at_least else "≤"
        else:
            sign = "<" if at_least else ">"
        return f"{self.gate} {self.value:.3g} {sign} {self.threshold:g}"


def _gate(name: str) -> Gate:
    return next(gate for gate in GATES if gate.name == name)


def evaluate(measures: dict[str, float], quality: QualitySettings,
             platform: str) -> list[GateResult]:
    """Every gate whose measure exists and whose threshold applies to `platform`."""
    results = []
    for gate in GATES:
        threshold = measures.get(gate.own_limit) if gate.own_limit else None
        if threshold is None:
            threshold = gate.threshold(quality, platform)
        if threshold is None or gate.name not in measures:
            continue
        value = float(measures[gate.name])
        results.append(GateResult(gate=gate.name, value=value, threshold=float(threshold),
                                  passed=gate.passes(value, threshold)))
    return results


def passes(metric: str, value: float, quality: QualitySettings | None = None,
           platform: str = "") -> bool:
    """Whether one measure passes its gate (True for a measure that is no gate)."""
    results = evaluate({metric: value}, quality or QualitySettings(), platform)
    return all(result.passed for result in results)


class Attempt(BaseModel):
    """One rendering of a canvas and what the gates said of it."""

    number: int
    repair: str | None = Field(default=None, description="the repair that made it; None: "
                                                         "the stages as the profile runs them")
    layout: str = Field(description="the layout manifest's key")
    text: str = Field(description="the text manifest's key")
    results: list[GateResult]

    @property
    def failed(self) -> list[GateResult]:
        return [result for result in self.results if not result.passed]

    @property
    def passed(self) -> bool:
        return not self.failed


class GateRecord(BaseModel):
    """A canvas's verdict: every attempt, and which one it kept (a passing one, else the
    one with the fewest failing gates). `held`: it waits for review, undelivered."""

    attempts: list[Attempt]
    kept: int = Field(description="index in `attempts` of the rendering kept")
    enforced: bool = True

    @property
    def chosen(self) -> Attempt:
        return self.attempts[self.kept]

    @property
    def passed(self) -> bool:
        return self.chosen.passed

    @property
    def held(self) -> bool:
        return self.enforced and not self.passed

    def failing(self) -> list[dict[str, Any]]:
        """The kept rendering's failing gates, as the review queue records them."""
        return [{"gate": r.gate, "value": r.value, "threshold": r.threshold}
                for r in self.chosen.failed]

    def repair_part(self) -> dict[str, Any] | None:
        """The rendition's `backends` entry when a repair made it (None otherwise)."""
        if self.chosen.repair is None:
            return None
        first = self.attempts[0]
        return {"backend": self.chosen.repair, "attempts": len(self.attempts),
                "reason": "failed " + ", ".join(r.words() for r in first.failed)}
