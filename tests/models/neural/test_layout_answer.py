"""Reading a vision-language model's layout answer: extract, validate, clamp, refuse."""

from __future__ import annotations

import json

import pytest

from adforge.brandkit import default_brand_kit
from adforge.specs import AdCopy, PixelBox
from models.neural.layout_answer import (
    EXAMPLE,
    LayoutAnswerError,
    extract_json,
    layout_prompt,
    parse_layout,
    retry_prompt,
)

FRAME = (1000, 1000)
PRODUCT = PixelBox(550, 450, 950, 950)
SAFE = PixelBox(50, 50, 950, 950)
COPY = AdCopy(headline="Fresh every day", cta="Shop now")


def answer(*boxes, **extra) -> str:
    return json.dumps({"boxes": list(boxes), **extra})


def box(role="headline", x=0.06, y=0.08, w=0.4, h=0.15, color="#111111", **extra):
    return {"role": role, "box": {"x": x, "y": y, "w": w, "h": h}, "color": color,
            "size_hint": 0.06, **extra}


def parse(text: str, copy: AdCopy = COPY):
    return parse_layout(text, frame=FRAME, product_box=PRODUCT, safe_area=SAFE, copy=copy)


def test_the_json_is_found_inside_prose_and_code_fences():
    text = 'Sure! Here it is:\n```json\n{"a": {"b": "}"}, "c": "\\"{"}\n```\nDone {oops'
    assert extract_json(text) == {"a": {"b": "}"}, "c": '"{'}


def test_no_json_is_a_problem_that_says_so():
    with pytest.raises(LayoutAnswerError, match="no complete JSON object"):
        extract_json("I would put the headline at the top left.")


def test_a_valid_answer_becomes_a_layout_spec():
    spec = parse("Layout: " + answer(box(), box("cta", y=0.3, h=0.07, fill="#E4572E")))
    assert [b.role.value for b in spec.boxes] == ["headline", "cta"]
    assert spec.box_for("cta").fill == "#E4572E"


def test_the_schema_example_in_the_prompt_is_itself_valid():
    spec = parse(EXAMPLE)
    assert len(spec.boxes) == 2


def test_schema_violations_are_listed_by_field():
    with pytest.raises(LayoutAnswerError) as caught:
        parse(answer(box(color="red"), box("cta", y=0.3, w=1.7)))
    problems = " | ".join(caught.value.problems)
    assert "boxes.0.color" in problems and "boxes.1.box.w" in problems


def test_boxes_are_clamped_into_the_safe_area():
    spec = parse(answer(box(x=0.0, y=0.0, w=0.45, h=0.2), box("cta", y=0.3, h=0.07)))
    headline = spec.box_for("headline").box
    assert (headline.x, headline.y) == (0.05, 0.05)
    assert headline.w == pytest.approx(0.4) and headline.h == pytest.approx(0.15)


def test_a_box_over_the_product_is_refused():
    with pytest.raises(LayoutAnswerError, match="cta box overlaps the product"):
        parse(answer(box(), box("cta", x=0.5, y=0.5, w=0.2, h=0.1)))


def test_missing_copy_is_a_problem_and_boxes_without_copy_are_dropped():
    with pytest.raises(LayoutAnswerError, match="no box for the cta"):
        parse(answer(box()))
    spec = parse(answer(box(), box("subline", y=0.25, h=0.05)), AdCopy(headline="Hi"))
    assert [b.role.value for b in spec.boxes] == ["headline"]


def test_a_box_outside_the_safe_area_is_refused():
    with pytest.raises(LayoutAnswerError, match="outside the safe area"):
        parse(answer(box(x=0.0, y=0.0, w=0.04, h=0.04), box("cta", y=0.3, h=0.07)))


def test_the_prompts_carry_the_exact_copy_the_colours_and_the_problems():
    question = layout_prompt(COPY, default_brand_kit(), FRAME, PRODUCT, SAFE)
    assert '"Fresh every day"' in question and '"Shop now"' in question
    assert "#E4572E" in question and "x 0.55..0.95" in question
    follow_up = retry_prompt(["cta box overlaps the product"])
    assert "failed validation" in follow_up and "- cta box overlaps the product" in follow_up
