"""The Qwen2-VL layout analyzer on a tiny random Qwen2-VL, offline.

A random model answers nonsense, which exercises the retry and the classic fallback.
To exercise the success path the real model runs too, with its next-token scores
steered by a logits processor toward scripted answers (what a good model would say).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from transformers import LogitsProcessor, LogitsProcessorList  # noqa: E402

from adforge.brandkit import default_brand_kit  # noqa: E402
from adforge.specs import AdCopy, LayoutSpec, PixelBox  # noqa: E402
from models.classic.layout import ClassicLayoutAnalyzer  # noqa: E402
from models.contracts import LayoutAnalyzer  # noqa: E402
from models.neural.qwen2vl_layout import (  # noqa: E402
    PATCH,
    LayoutAttempt,
    Qwen2VLLayoutAnalyzer,
)

SIZE = 224
PRODUCT = PixelBox(120, 110, 210, 210)
SAFE = PixelBox(11, 11, 213, 213)
COPY = AdCopy(headline="Fresh every day", cta="Shop now")
GOOD = json.dumps({"boxes": [
    {"role": "headline", "box": {"x": 0.06, "y": 0.08, "w": 0.45, "h": 0.15},
     "color": "#111111", "size_hint": 0.06},
    {"role": "cta", "box": {"x": 0.06, "y": 0.3, "w": 0.3, "h": 0.08},
     "color": "#FFFFFF", "size_hint": 0.04, "fill": "#E4572E"}],
    "reason": "calm area top left"})


class ScriptedAnswers(LogitsProcessor):
    """Steers generation to say the scripted answers, one per `generate` call, and
    keeps each call's prompt."""

    def __init__(self, tokenizer, answers: list[str]) -> None:
        eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.scripts = [tokenizer(answer)["input_ids"] + [eos] for answer in answers]
        self.tokenizer, self.prompts, self.calls, self.last = tokenizer, [], -1, -2

    def __call__(self, input_ids, scores):
        length = input_ids.shape[1]
        if length != self.last + 1:  # a new generate call
            self.calls, self.start = self.calls + 1, length
            self.prompts.append(self.tokenizer.decode(input_ids[0]))
        self.last = length
        script = self.scripts[self.calls]
        steered = torch.full_like(scores, -float("inf"))
        steered[:, script[min(length - self.start, len(script) - 1)]] = 0.0
        return steered


def composite() -> np.ndarray:
    image = np.full((SIZE, SIZE, 3), 235, np.uint8)
    image[PRODUCT.y0:PRODUCT.y1, PRODUCT.x0:PRODUCT.x1] = (180, 60, 40)
    return image


def analyzer_with_script(checkpoint: Path, answers):
    analyzer = Qwen2VLLayoutAnalyzer(str(checkpoint), min_pixels=PATCH * PATCH,
                                     max_pixels=4 * PATCH * PATCH, max_new_tokens=600)
    analyzer.load()
    script = ScriptedAnswers(analyzer._processor.tokenizer, answers)
    analyzer.generate_options = {"logits_processor": LogitsProcessorList([script])}
    return analyzer, script


def analyze(analyzer) -> tuple[LayoutSpec, list[LayoutAttempt]]:
    return analyzer.analyze_with_attempts(composite(), PRODUCT, COPY, default_brand_kit(), SAFE)


def test_implements_the_layout_protocol():
    assert isinstance(Qwen2VLLayoutAnalyzer(), LayoutAnalyzer)


def test_image_tokens_are_bounded_by_max_pixels(tiny_models):
    analyzer = Qwen2VLLayoutAnalyzer(str(tiny_models["qwen2vl"]), min_pixels=PATCH * PATCH,
                                     max_pixels=16 * PATCH * PATCH)
    big = np.zeros((900, 1200, 3), np.uint8)
    assert 4 <= analyzer.image_tokens(big) <= 16
    analyzer.max_pixels = 4 * PATCH * PATCH
    analyzer.load()  # the bound is applied at load
    assert analyzer.image_tokens(big) <= 4


def test_a_good_answer_is_the_layout(tiny_models):
    analyzer, script = analyzer_with_script(tiny_models["qwen2vl"], [GOOD])
    spec, attempts = analyze(analyzer)
    assert [b.role.value for b in spec.boxes] == ["headline", "cta"]
    assert spec.reason == "calm area top left"
    assert len(attempts) == 1 and attempts[0].ok
    assert '"Fresh every day"' in script.prompts[0] and "<|image_pad|>" in script.prompts[0]


def test_one_retry_tells_the_model_what_failed(tiny_models):
    over_product = GOOD.replace('"x": 0.06, "y": 0.3', '"x": 0.6, "y": 0.6')
    analyzer, script = analyzer_with_script(tiny_models["qwen2vl"], [over_product, GOOD])
    spec, attempts = analyze(analyzer)
    assert spec.box_for("cta").box.x == pytest.approx(0.06)
    assert [a.ok for a in attempts] == [False, True]
    assert "failed validation" in script.prompts[1]
    assert "cta box overlaps the product" in script.prompts[1]


def test_invalid_answers_fall_back_to_the_classic_analyzer(tiny_models):
    analyzer, _ = analyzer_with_script(tiny_models["qwen2vl"], ["{not json", '{"boxes": []}'])
    spec, attempts = analyze(analyzer)
    classic = ClassicLayoutAnalyzer().analyze(composite(), PRODUCT, COPY,
                                              default_brand_kit(), SAFE)
    assert spec.boxes == classic.boxes
    assert spec.reason.startswith("fallback to classic: qwen2-vl failed validation 2x")
    assert [a.backend for a in attempts] == ["qwen2-vl", "qwen2-vl", "classic"]


def test_a_random_model_ends_in_the_fallback_too(tiny_models):
    analyzer = Qwen2VLLayoutAnalyzer(str(tiny_models["qwen2vl"]), min_pixels=PATCH * PATCH,
                                     max_pixels=4 * PATCH * PATCH, max_new_tokens=24)
    spec, attempts = analyze(analyzer)
    assert spec.reason.startswith("fallback to classic")
    assert len(attempts) == 3
    assert analyzer.analyze(composite(), PRODUCT, COPY, default_brand_kit(), SAFE) == spec
