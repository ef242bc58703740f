"""FLUX backgrounds: text-to-image for new backdrops, image-to-image to restyle one.

1. the prompt is built from the brand kit's template and the brief row
   (`build_prompt`): the row's (or style's, or brand's) prompt, the style's own words;
2. every canvas is generated at its own aspect (`generation_size`): at about
   `megapixels` x 1024^2 pixels when the canvas is larger, else at its own size, sides
   rounded to multiples of 16 (the VAE's 8x and the 2x2 latent packing), `max_side` at
   most; the result is cover-cropped to exactly the size asked for (scaled to cover,
   the centre kept: never stretched);
3. every image has its own seeded CPU generator: the same seed, the same backdrop, on
   any device;
4. FLUX.1-schnell (Apache-2.0) is the default: 4 steps, guidance 0. FLUX.1-dev is
   opt-in (28 steps, guidance 3.5) and choosing it logs its non-commercial licence;
5. a negative prompt is used only through true classifier-free guidance
   (`true_cfg_scale > 1`, twice the transformer passes); otherwise it is dropped, and
   that is said in the recorded parameters.

torch and diffusers are imported here only; the pipeline loads on first use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from adforge.imaging.renditions import fit_background as cover_crop
from adforge.model_settings import DEFAULT_BACKGROUND_TEMPLATE as DEFAULT_TEMPLATE
from models import runtime
from models.contracts import BackgroundRequest

log = logging.getLogger(__name__)

SIZE_MULTIPLE = 16
NATIVE_PIXELS = 1024 * 1024  # one `megapixels` unit: FLUX's native 1024x1024
DEV_LICENCE = ("FLUX.1-dev is released under the FLUX.1 [dev] Non-Commercial License: "
               "advertising is commercial use; use FLUX.1-schnell (Apache-2.0) or obtain "
               "a commercial licence from Black Forest Labs")
Variant = Literal["schnell", "dev"]
VARIANT_DEFAULTS: dict[str, dict[str, float]] = {
    "schnell": {"steps": 4, "guidance": 0.0, "max_sequence_length": 256},
    "dev": {"steps": 28, "guidance": 3.5, "max_sequence_length": 512},
}


@dataclass(frozen=True)
class FluxCall:
    """The arguments of one pipeline call, recorded with the asset."""

    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    steps: int
    guidance: float
    true_cfg_scale: float
    seed: int
    strength: float | None = None

    def pipeline_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "prompt": self.prompt, "width": self.width, "height": self.height,
            "num_inference_steps": self.steps, "guidance_scale": self.guidance}
        if self.negative_prompt is not None:
            kwargs |= {"negative_prompt": self.negative_prompt,
                       "true_cfg_scale": self.true_cfg_scale}
        if self.strength is not None:
            kwargs["strength"] = self.strength
        return kwargs


def round_size(value: int, multiple: int = SIZE_MULTIPLE) -> int:
    """The nearest multiple (at least one multiple)."""
    return max(multiple, int(round(value / multiple)) * multiple)


def native_aspect_size(width: int, height: int, megapixels: float = 1.0,
                       max_side: int | None = None) -> tuple[int, int]:
    """The size FLUX generates a width x height canvas at: its aspect at about
    `megapixels` x 1024^2 pixels when it is larger than that, else its own size; the
    longer side at most `max_side`; both sides rounded to 16."""
    scale = min(1.0, (megapixels * NATIVE_PIXELS / (width * height)) ** 0.5)
    if max_side:
        scale = min(scale, max_side / max(width, height))
    return round_size(round(width * scale)), round_size(round(height * scale))


def build_prompt(request: BackgroundRequest, template: str = DEFAULT_TEMPLATE) -> str:
    """The template filled from the request: `{prompt}` (the row's, the style's or the
    brand's prompt) and `{style}` (the style's own words, when they add anything)."""
    style = request.style.prompt.strip()
    prompt = request.prompt.strip() or style
    filled = template.format(prompt=prompt, style=style if style != prompt else "")
    parts = [part.strip() for part in filled.split(",")]
    return ", ".join(part for part in parts if part)


def variant_of(source: str) -> Variant:
    return "dev" if "dev" in source.rsplit("/", 1)[-1].lower() else "schnell"


class FluxBackground(runtime.PipelineBackend):
    """BackgroundGenerator protocol on a FLUX pipeline (hub id or local folder)."""

    name = "flux"
    OUTPUT_SETTINGS = ("source", "variant", "steps", "guidance", "true_cfg_scale",
                       "max_sequence_length", "template", "megapixels", "max_side")
    batches = True  # generate_batch: `batch_size` backdrops of one size per forward pass
    restyles = True  # `restyle`: image-to-image on the same weights

    def __init__(self, source: str = "black-forest-labs/FLUX.1-schnell", *,
                 variant: Variant | None = None, steps: int | None = None,
                 guidance: float | None = None, true_cfg_scale: float = 1.0,
                 max_sequence_length: int | None = None, template: str = DEFAULT_TEMPLATE,
                 batch_size: int = 1, megapixels: float = 1.0, max_side: int | None = None,
                 device: str | None = None) -> None:
        """megapixels: pixels generated for a larger canvas, in 1024^2 units.
        max_side: generate at most this side (tiny models), then cover-crop."""
        super().__init__(device)
        self.source = source
        self.variant: Variant = variant or variant_of(source)
        defaults = VARIANT_DEFAULTS[self.variant]
        self.steps = int(steps or defaults["steps"])
        self.guidance = defaults["guidance"] if guidance is None else guidance
        self.true_cfg_scale = true_cfg_scale
        self.max_sequence_length = int(max_sequence_length or defaults["max_sequence_length"])
        self.template = template
        self.batch_size = batch_size
        self.megapixels = megapixels
        self.max_side = max_side
        self.placement: str | None = None
        self._check()
        if self.variant == "dev":
            log.warning("background model %s: %s", source, DEV_LICENCE)

    def _check(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps {self.steps} must be at least 1")
        if self.true_cfg_scale < 1.0:
            raise ValueError(f"true_cfg_scale {self.true_cfg_scale} must be >= 1 "
                             "(1 turns true CFG and the negative prompt off)")
        if self.batch_size < 1:
            raise ValueError(f"batch_size {self.batch_size} must be at least 1")
        if self.megapixels <= 0:
            raise ValueError(f"megapixels {self.megapixels} must be positive")
        try:
            self.template.format(prompt="", style="")
        except (KeyError, IndexError) as error:
            raise ValueError(f"prompt template {self.template!r} may use only {{prompt}} "
                             "and {style}") from error

    # -- residency --------------------------------------------------------------------
    # (`loaded` and `unload`: `runtime.PipelineBackend`)

    def load(self, placement: str = "resident") -> float:
        """Load the pipeline (bf16 on a GPU, fp32 on the CPU) in a placement
        (`models.memory_modes`); seconds it took."""
        from diffusers import FluxPipeline

        from models.neural.memory_apply import apply_placement, nf4_quantization

        device, dtype = runtime.device_and_dtype(self.device)
        extra = {"quantization_config": nf4_quantization(
            dtype, ["transformer", "text_encoder_2"])} if placement == "nf4" else {}
        started = time.perf_counter()
        with runtime.weights_load("FLUX", self.source, "ADFORGE_MODELS__FLUX__SOURCE"):
            pipeline = FluxPipeline.from_pretrained(self.source, dtype=dtype, **extra)
        pipeline.set_progress_bar_config(disable=True)
        self._pipeline = apply_placement(pipeline, placement, device, dtype)
        self.placement = placement
        return time.perf_counter() - started

    # -- BackgroundGenerator protocol -------------------------------------------------

    def generation_size(self, request: BackgroundRequest) -> tuple[int, int]:
        """(width, height) generated for the request: its canvas's aspect, about
        `megapixels` (or its own size when smaller), sides of 16 (`native_aspect_size`)."""
        return native_aspect_size(request.width, request.height, self.megapixels,
                                  self.max_side)

    def plan(self, request: BackgroundRequest, strength: float | None = None) -> FluxCall:
        """The pipeline call for a request (no model needed)."""
        negative = request.negative_prompt.strip()
        use_cfg = self.true_cfg_scale > 1.0 and bool(negative)
        width, height = self.generation_size(request)
        return FluxCall(
            prompt=build_prompt(request, self.template),
            negative_prompt=negative if use_cfg else None,
            width=width, height=height,
            steps=request.steps or self.steps, guidance=self.guidance,
            true_cfg_scale=self.true_cfg_scale if use_cfg else 1.0,
            seed=request.seed, strength=strength)

    def generate(self, request: BackgroundRequest) -> np.ndarray:
        return self.generate_batch([request])[0]

    def generate_batch(self, requests: Sequence[BackgroundRequest]) -> list[np.ndarray]:
        """One backdrop per request, cover-cropped to its exact size; requests generated
        at one size share a forward pass (`batch_size` at a time), each with its own
        seeded generator."""
        calls = [self.plan(request) for request in requests]
        results: list[np.ndarray | None] = [None] * len(calls)
        for group in _same_shape_groups(calls, self.batch_size):
            with runtime.resident(self):
                images = self._run(self._pipeline, [calls[i] for i in group])
            for index, image in zip(group, images, strict=True):
                results[index] = image
        return [_fitted(image, request)
                for image, request in zip(results, requests, strict=True)]

    def restyle(self, image: np.ndarray, request: BackgroundRequest,
                strength: float = 0.6) -> np.ndarray:
        """A new look for an RGB image (a backdrop, a reference of any aspect, cover-
        cropped to the generation size first): strength 0 keeps it, 1 replaces it."""
        if not 0.0 < strength <= 1.0:
            raise ValueError(f"strength {strength} must be in (0, 1]")
        call = self.plan(request, strength=strength)
        source = cover_crop(image, call.width, call.height)
        with runtime.resident(self):
            restyled = self._run(self._image_to_image(), [call], image=source)[0]
        return _fitted(restyled, request)

    # -- helpers ----------------------------------------------------------------------

    def _image_to_image(self) -> Any:
        from diffusers import FluxImg2ImgPipeline

        return FluxImg2ImgPipeline.from_pipe(self._pipeline)  # shares the weights

    def _run(self, pipeline: Any, calls: list[FluxCall], **extra: Any) -> list[np.ndarray]:
        kwargs = calls[0].pipeline_kwargs() | extra
        kwargs["prompt"] = [call.prompt for call in calls]
        if "negative_prompt" in kwargs:
            kwargs["negative_prompt"] = [call.negative_prompt for call in calls]
        return runtime.run_pipeline(pipeline, [call.seed for call in calls], **kwargs,
                                    max_sequence_length=self.max_sequence_length)


def _same_shape_groups(calls: list[FluxCall], size: int) -> list[list[int]]:
    """Indices of calls that can share a forward pass, at most `size` per group."""
    by_shape: dict[tuple, list[int]] = {}
    for index, call in enumerate(calls):
        key = (call.width, call.height, call.negative_prompt is None)
        by_shape.setdefault(key, []).append(index)
    return [indices[start:start + size] for indices in by_shape.values()
            for start in range(0, len(indices), size)]


def _fitted(image: np.ndarray | None, request: BackgroundRequest) -> np.ndarray:
    """The generated image at exactly the request's size: scaled to cover it, the centre
    kept (the rounding to 16 and any `max_side` cap are cropped, never stretched)."""
    assert image is not None
    return cover_crop(image, request.width, request.height)
