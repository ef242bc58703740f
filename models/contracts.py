"""Stage contracts: one protocol per stage, and the records they exchange.

Every backend, classic or neural, implements one of these protocols, and declares as
plain attributes what the tasks plan with (`Backend`: its cache key, whether it batches
and how many per pass, whether it needs the GPU; a text renderer: whether it takes the
product mask). A backend is chosen by the run's profile (see `models.registry`) and can
be overridden per stage.
The records are defined in the Prefect-free core (`adforge.specs`) and re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from adforge.brandkit import BrandKit
from adforge.records import BackgroundRequest
from adforge.specs import (
    AdCopy,
    Box,
    LayoutSpec,
    PixelBox,
    Placement,
    RenditionSpec,
    TextBox,
    TextRole,
    Underlay,
)

__all__ = [
    "AdCopy", "Backend", "BackgroundGenerator", "BackgroundRequest", "Box", "LayoutAnalyzer",
    "LayoutSpec", "PixelBox", "Placement", "RenditionSpec", "SegmentResult", "Segmenter",
    "TextBox", "TextRenderer", "TextResult", "TextRole", "Underlay", "FitReport",
]


@dataclass
class SegmentResult:
    """A cutout: full-frame RGBA whose colour is decontaminated along the edge."""

    rgba: np.ndarray  # (H, W, 4) uint8, same size as the input photo
    confidence: float  # 0..1: how sure the segmenter is (low: cluttered photo)
    warnings: list[str] = field(default_factory=list)

    @property
    def alpha(self) -> np.ndarray:
        return self.rgba[..., 3].astype(np.float32) / 255.0


@dataclass
class FitReport:
    """How one piece of copy was fitted into its box."""

    role: TextRole
    font: str  # "path#index"
    font_px: int
    lines: list[str]
    ellipsized: bool  # True when text had to be cut (last resort, reported)
    box: PixelBox  # the pixels the text ink actually covers


@dataclass
class TextResult:
    image: np.ndarray  # (H, W, 3) uint8, the final image with text
    backing: np.ndarray  # (H, W, 3) uint8, the image with underlay/buttons, before glyphs
    fits: list[FitReport]
    attempts: list[dict] = field(default_factory=list)  # neural edits tried, and why kept


class Backend(Protocol):
    """What every stage backend declares, so that the tasks need not probe for it."""

    name: str
    cache_key: str  # in stage-cache keys: the name, and a neural backend's settings digest
    batch_size: int  # items per forward pass where it batches, else 1
    batches: bool  # it has `segment_batch` / `generate_batch`: its stage runs in batches
    needs_gpu: bool  # it runs on CUDA: the flow takes the host's GPU slot around it


@runtime_checkable
class Segmenter(Backend, Protocol):
    def segment(self, image: np.ndarray) -> SegmentResult:
        """Cut the product out of an RGB photo."""
        ...


@runtime_checkable
class BackgroundGenerator(Backend, Protocol):
    restyles: bool  # it has `restyle(image, request, strength)`: a reference image counts

    def generation_size(self, request: BackgroundRequest) -> tuple[int, int]:
        """(width, height) the backend really makes for this request, before it is
        fitted to exactly request.width x request.height (recorded with the backdrop)."""
        ...

    def generate(self, request: BackgroundRequest) -> np.ndarray:
        """An RGB background of exactly request.width x request.height."""
        ...


@runtime_checkable
class LayoutAnalyzer(Backend, Protocol):
    def analyze(self, image: np.ndarray, product_box: PixelBox, copy: AdCopy,
                brand: BrandKit, safe_area: PixelBox) -> LayoutSpec:
        """Where the copy goes: boxes inside safe_area, never over product_box."""
        ...


@runtime_checkable
class TextRenderer(Backend, Protocol):
    needs_product_mask: bool  # `render` takes `product_mask=` (the edit check measures in it)

    def render(self, image: np.ndarray, spec: LayoutSpec, copy: AdCopy,
               brand: BrandKit) -> TextResult:
        """Draw the copy exactly as given, following the layout spec."""
        ...
