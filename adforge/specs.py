"""Records exchanged between stages (pydantic), plus the platform presets.

The stage protocols live in `models.contracts`, which re-exports these records.
Image data never travels in these records: stages exchange numpy arrays in memory
and references (keys, URIs) between Prefect tasks.

Conventions used by every imaging function:
- RGB images: numpy uint8 arrays of shape (H, W, 3); RGBA: (H, W, 4).
- Mattes: float32 arrays of shape (H, W) in [0, 1].
- Pixel boxes: `PixelBox(x0, y0, x1, y1)`, half-open, in pixels.
- Normalised boxes: `Box(x, y, w, h)`, fractions of the frame's width and height.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field, field_validator

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_hex_color(value: str) -> str:
    if not HEX_COLOR.match(value):
        raise ValueError(f"{value!r} is not a colour; write it as #RRGGBB, e.g. #1A2B3C")
    return value.upper()


class PixelBox(NamedTuple):
    """A box in pixels, half-open: x0 <= x < x1, y0 <= y < y1."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def intersection(self, other: PixelBox) -> int:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return max(0, w) * max(0, h)

    def contains(self, other: PixelBox) -> bool:
        return (
            self.x0 <= other.x0 and self.y0 <= other.y0
            and other.x1 <= self.x1 and other.y1 <= self.y1
        )


class Box(BaseModel):
    """A box in normalised coordinates (fractions of the frame's width and height)."""

    x: float = Field(ge=0.0, le=1.0, description="left edge, fraction of the frame width")
    y: float = Field(ge=0.0, le=1.0, description="top edge, fraction of the frame height")
    w: float = Field(gt=0.0, le=1.0, description="width, fraction of the frame width")
    h: float = Field(gt=0.0, le=1.0, description="height, fraction of the frame height")

    def to_pixels(self, width: int, height: int) -> PixelBox:
        return PixelBox(
            round(self.x * width), round(self.y * height),
            round((self.x + self.w) * width), round((self.y + self.h) * height),
        )

    @classmethod
    def from_pixels(cls, box: PixelBox, width: int, height: int) -> Box:
        return cls(x=box.x0 / width, y=box.y0 / height,
                   w=box.width / width, h=box.height / height)


class TextRole(StrEnum):
    headline = "headline"
    subline = "subline"
    cta = "cta"


class AdCopy(BaseModel):
    """What the ad says. Text is exact: what is here is what the image shows."""

    headline: str = Field(min_length=1, description="the main line, largest type")
    subline: str = Field(default="", description="a supporting line under the headline")
    cta: str = Field(default="", description="call to action, drawn as a button")
    language: str = Field(default="en", description="BCP-47 language code: en, ko, zh, ja...")

    def text_for(self, role: TextRole) -> str:
        return getattr(self, role.value)


class Underlay(BaseModel):
    """A panel drawn under text so that it reaches the contrast target."""

    color: str = Field(description="panel colour, #RRGGBB")
    opacity: float = Field(ge=0.0, le=1.0, description="panel opacity")
    padding: float = Field(default=0.02, ge=0.0, le=0.2,
                           description="padding around the text box, fraction of frame height")
    radius: float = Field(default=0.015, ge=0.0, le=0.2,
                          description="corner radius, fraction of frame height")

    _check = field_validator("color")(classmethod(lambda cls, v: check_hex_color(v)))


class TextBox(BaseModel):
    """Where one piece of copy goes, and how it looks."""

    role: TextRole
    box: Box
    align: Literal["left", "center", "right"] = "left"
    color: str = Field(description="text colour, #RRGGBB")
    size_hint: float = Field(gt=0.0, le=0.5,
                             description="preferred font size, fraction of frame height")
    max_lines: int = Field(default=2, ge=1, le=8, description="wrap to at most this many lines")
    fill: str | None = Field(default=None, description="button fill colour (call to action)")

    _check = field_validator("color")(classmethod(lambda cls, v: check_hex_color(v)))


class LayoutSpec(BaseModel):
    """The layout stage's answer: text boxes, colours, underlay, and why."""

    boxes: list[TextBox] = Field(min_length=1)
    underlay: Underlay | None = Field(default=None, description="panel under the text block")
    shadow: bool = Field(default=False, description="soft drop shadow under glyphs")
    reason: str = Field(default="", max_length=400, description="one sentence: why here")
    made_by: str = Field(default="", description="the backend whose answer this is (set by "
                         "the analyzer, not by a model's answer)")
    fallback: str = Field(default="", max_length=400,
                          description="why the stage's own backend's answer was not used")

    def box_for(self, role: TextRole) -> TextBox | None:
        return next((b for b in self.boxes if b.role == role), None)


Anchor = Literal["auto", "center", "left", "right", "top", "bottom"]


class Placement(BaseModel):
    """The rule that places the product in a frame of any aspect ratio."""

    anchor: Anchor = Field(
        default="auto",
        description="where the product sits; auto: right in landscape frames (w/h >= 1.25), "
        "bottom otherwise, leaving the rest of the frame for the copy",
    )
    area_fraction: float = Field(default=0.22, gt=0.01, le=0.8,
                                 description="product box area as a fraction of the frame area")
    margin: float = Field(default=0.06, ge=0.0, le=0.3,
                          description="minimum gap to the frame edge, fraction of the short side")
    max_extent: float = Field(default=0.6, gt=0.1, le=1.0,
                              description="the product's share of the placement area along the "
                              "axis it shares with the copy (width beside it, height below it)")


class RenditionSpec(BaseModel):
    """One output format: exact size plus the safe area that text must stay in."""

    name: str
    width: int = Field(gt=15, le=8192)
    height: int = Field(gt=15, le=8192)
    safe_area: Box = Field(description="text must stay inside this box (normalised)")

    @property
    def aspect(self) -> float:
        return self.width / self.height


def _preset(name: str, w: int, h: int, top: float = 0.05, bottom: float = 0.05,
            side: float = 0.05) -> RenditionSpec:
    return RenditionSpec(name=name, width=w, height=h,
                         safe_area=Box(x=side, y=top, w=1 - 2 * side, h=1 - top - bottom))


# The story keeps its top 14% and bottom 20% free for the platform's own UI.
PRESETS: dict[str, RenditionSpec] = {
    p.name: p
    for p in (
        _preset("instagram_post", 1080, 1080),
        _preset("instagram_portrait", 1080, 1350),
        _preset("instagram_story", 1080, 1920, top=0.14, bottom=0.20, side=0.06),
        _preset("blog_header", 1200, 600),
        _preset("blog_thumbnail", 600, 400, top=0.06, bottom=0.06, side=0.06),
        _preset("twitter_card", 1200, 630),
    )
}

CUSTOM_SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$")


def rendition_spec(name: str) -> RenditionSpec:
    """A preset by name, or a custom `WxH` size (e.g. `1600x900`)."""
    if name in PRESETS:
        return PRESETS[name]
    match = CUSTOM_SIZE.match(name)
    if match:
        return _preset(name, int(match.group(1)), int(match.group(2)))
    known = ", ".join(PRESETS)
    raise ValueError(f"unknown platform {name!r}: use one of {known}, or a size like 1600x900")
