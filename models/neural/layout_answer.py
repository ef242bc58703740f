"""A vision-language model's layout answer, read robustly into a `LayoutSpec`.

1. extract the JSON object from the answer (code fences, prose around it);
2. validate it against the `LayoutSpec` schema (pydantic);
3. keep boxes only for copy that exists, one per role, the headline always;
4. clamp every box into the safe area;
5. reject any box that overlaps the product's box.

Every problem is collected (`LayoutAnswerError.problems`) so that a retry can tell the
model exactly what failed. Also the prompts: the first question and the retry. No torch.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from adforge.brandkit import BrandKit
from adforge.specs import AdCopy, Box, LayoutSpec, PixelBox, TextBox, TextRole

MIN_KEPT_FRACTION = 0.3  # a box clamped to less than this share of itself is refused

EXAMPLE = ('{"boxes": [{"role": "headline", "box": {"x": 0.06, "y": 0.08, "w": 0.5, '
           '"h": 0.18}, "align": "left", "color": "#111111", "size_hint": 0.07, '
           '"max_lines": 2}, {"role": "cta", "box": {"x": 0.06, "y": 0.3, "w": 0.25, '
           '"h": 0.07}, "align": "left", "color": "#FFFFFF", "size_hint": 0.035, '
           '"max_lines": 1, "fill": "#E4572E"}], "underlay": null, "shadow": false, '
           '"reason": "clean light area left of the product"}')


class LayoutAnswerError(ValueError):
    """The answer cannot be used; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def extract_json(answer: str) -> dict:
    """The first complete JSON object in the answer (prose and code fences ignored)."""
    start = answer.find("{")
    while start != -1:
        end = _matching_brace(answer, start)
        if end is None:
            break
        try:
            found = json.loads(answer[start:end + 1])
        except json.JSONDecodeError:
            found = None
        if isinstance(found, dict):
            return found
        start = answer.find("{", start + 1)
    raise LayoutAnswerError(["the answer holds no complete JSON object; answer with one "
                             "JSON object only"])


def parse_layout(answer: str, *, frame: tuple[int, int], product_box: PixelBox,
                 safe_area: PixelBox, copy: AdCopy) -> LayoutSpec:
    """The answer as a valid, clamped `LayoutSpec` clear of the product, or the error."""
    data = extract_json(answer)
    try:
        spec = LayoutSpec.model_validate(data)
    except ValidationError as error:
        raise LayoutAnswerError([_describe(item) for item in error.errors()]) from error
    width, height = frame
    safe = Box.from_pixels(safe_area, width, height)
    problems: list[str] = []
    boxes = _boxes_for_copy(spec.boxes, copy, problems)
    kept = []
    for text_box in boxes:
        clamped = clamp_box(text_box.box, safe)
        if clamped is None:
            problems.append(f"{text_box.role.value} box lies outside the safe area "
                            f"x {safe.x:.2f}..{safe.x + safe.w:.2f}, "
                            f"y {safe.y:.2f}..{safe.y + safe.h:.2f}")
            continue
        pixels = clamped.to_pixels(width, height)
        if pixels.intersection(product_box):
            problems.append(f"{text_box.role.value} box overlaps the product at "
                            f"{_normalised(product_box, width, height)}; keep clear of it")
            continue
        kept.append(text_box.model_copy(update={"box": clamped}))
    if problems:
        raise LayoutAnswerError(problems)
    return spec.model_copy(update={"boxes": kept})


def clamp_box(box: Box, safe: Box) -> Box | None:
    """The box cut to the safe area; None when too little of it is left."""
    x0, y0 = max(box.x, safe.x), max(box.y, safe.y)
    x1 = min(box.x + box.w, safe.x + safe.w)
    y1 = min(box.y + box.h, safe.y + safe.h)
    if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) < MIN_KEPT_FRACTION * box.w * box.h:
        return None
    return Box(x=x0, y=y0, w=x1 - x0, h=y1 - y0)


def layout_prompt(copy: AdCopy, brand: BrandKit, frame: tuple[int, int],
                  product_box: PixelBox, safe_area: PixelBox) -> str:
    """The question: where the copy goes on this image, as LayoutSpec JSON."""
    width, height = frame
    roles = [role.value for role in TextRole if copy.text_for(role)]
    lines = [
        "You are an art director placing ad copy on the product photo shown.",
        "Copy (print exactly, do not translate): "
        + "; ".join(f'{role}: "{copy.text_for(TextRole(role))}"' for role in roles),
        f"Language: {copy.language}. Brand: {brand.name}. Tone: {brand.tone or 'neutral'}.",
        f"Brand colours: text dark {brand.colors.text_dark}, text light "
        f"{brand.colors.text_light}, primary {brand.colors.primary}, accent (button fill) "
        f"{brand.colors.accent}.",
        f"The product occupies {_normalised(product_box, width, height)}: no box may "
        "overlap it.",
        f"Keep every box inside the safe area {_normalised(safe_area, width, height)}.",
        "Coordinates are fractions of the image width (x, w) and height (y, h).",
        f"One box per role: {', '.join(roles)}. Colours as #RRGGBB, readable on the pixels "
        "under them.",
        "Answer with one JSON object only, like: " + EXAMPLE,
    ]
    return "\n".join(lines)


def retry_prompt(problems: list[str]) -> str:
    """The follow-up after a failed answer: what failed, and the rules again."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    return ("Your answer failed validation:\n" + listed + "\nAnswer again with one corrected "
            "JSON object only, following the same schema.")


def _boxes_for_copy(boxes: list[TextBox], copy: AdCopy, problems: list[str]) -> list[TextBox]:
    seen: set[TextRole] = set()
    wanted = []
    for text_box in boxes:
        if not copy.text_for(text_box.role) or text_box.role in seen:
            continue  # no copy for it, or a second box for a role
        seen.add(text_box.role)
        wanted.append(text_box)
    for role in TextRole:
        if copy.text_for(role) and role not in seen:
            problems.append(f"no box for the {role.value}; give every piece of copy a box")
    return wanted


def _describe(item: dict) -> str:
    where = ".".join(str(part) for part in item["loc"]) or "answer"
    return f"{where}: {item['msg']}"


def _normalised(box: PixelBox, width: int, height: int) -> str:
    return (f"x {box.x0 / width:.2f}..{box.x1 / width:.2f}, "
            f"y {box.y0 / height:.2f}..{box.y1 / height:.2f}")


def _matching_brace(text: str, start: int) -> int | None:
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None
