"""Qwen-Image-Edit text: the copy painted into the composite by an image-edit model,
verified, retried with new seeds, and typeset when no edit passes.

1. the prompt is built from the LayoutSpec: the exact copy in quotes, where each piece
   goes, its colour and button fill, the brand's tone (`edit_prompt`);
2. `QwenImageEditPipeline` for the original weights, `QwenImageEditPlusPipeline` for
   the 2509/2511 weights; true CFG (`true_cfg_scale` 4.0, negative prompt " "), or a
   step-distilled LoRA (`lora`, e.g. the 8-step Lightning one) loaded with diffusers'
   LoRA API, run with its few steps and CFG off (the factory passes that recipe);
3. the edit runs at the composite's size (rounded to 16), is resized back exactly and
   verified (`edit_check.verify_edit`): product fidelity inside the mask, drift outside
   the text boxes, OCR of the copy;
4. on failure the next seed, up to `attempts` edits, then the typesetting fallback;
   every attempt is recorded in the result's `attempts` (per call: several worker
   threads share one renderer).

torch and diffusers are imported here only; the pipeline loads on first use.
"""

from __future__ import annotations

import inspect
import logging
import time
import types
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from adforge.brandkit import BrandKit
from adforge.specs import AdCopy, LayoutSpec, TextBox, TextRole
from models import runtime
from models.contracts import TextRenderer, TextResult
from models.neural.edit_check import EditThresholds, OcrReader, verify_edit

log = logging.getLogger(__name__)
SHARING_PLACEMENTS = ("resident", "fp8")  # those that leave the text encoder as it is
LORA_ADAPTER = "distilled"  # the adapter's name in the pipeline
PipelineKind = Literal["edit", "edit-plus"]
ROLE_WORDS = {TextRole.headline: "headline", TextRole.subline: "sub-headline",
              TextRole.cta: "button label"}


@dataclass
class EditAttempt:
    """One edit (or the fallback) and what its verification found."""

    backend: str
    seed: int | None
    passed: bool
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def pipeline_kind(source: str) -> PipelineKind:
    """The 2509/2511 releases take the Plus pipeline (several images, its own working areas)."""
    name = source.rstrip("/").rsplit("/", 1)[-1]
    return "edit-plus" if any(tag in name for tag in ("2509", "2511")) else "edit"


def edit_prompt(spec: LayoutSpec, copy: AdCopy, brand: BrandKit) -> str:
    """The instruction: the exact copy in quotes, its place, colours and style."""
    lines = ["Add advertising text to this image. Keep everything else exactly as it is; "
             "do not change the product."]
    for text_box in spec.boxes:
        text = copy.text_for(text_box.role)
        if text.strip():
            lines.append(_box_instruction(text_box, text))
    tone = f" in a {brand.tone} tone" if brand.tone else ""
    lines.append(f"Style: clean, legible sans-serif typography{tone}, for the brand "
                 f"{brand.name}; spell every word exactly as quoted.")
    return "\n".join(lines)


def _box_instruction(text_box: TextBox, text: str) -> str:
    box = text_box.box
    where = (f"{_area(box.x + box.w / 2, box.y + box.h / 2)} "
             f"(x {box.x:.0%}-{box.x + box.w:.0%}, y {box.y:.0%}-{box.y + box.h:.0%})")
    said = f'Write the {ROLE_WORDS[text_box.role]} "{text}" {where}, {text_box.align} ' \
           f"aligned, colour {text_box.color}"
    if text_box.fill:
        said += f", on a rounded button filled {text_box.fill}"
    return said + "."


def _shrunk_size(width: int, height: int, side: int | None) -> tuple[int, int]:
    """The size with its longer side at most `side` (None: as it is)."""
    if side is None or max(width, height) <= side:
        return width, height
    scale = side / max(width, height)
    return max(16, round(width * scale)), max(16, round(height * scale))


def _shrink(image: np.ndarray, side: int | None) -> np.ndarray:
    size = _shrunk_size(image.shape[1], image.shape[0], side)
    if size == (image.shape[1], image.shape[0]):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _multiple_of_16(value: int) -> int:
    """The edit runs at the composite's own size, rounded to the latent grid."""
    return max(16, round(value / 16) * 16)


def edit_size(width: int, height: int, work_side: int | None = None) -> tuple[int, int]:
    """(width, height) one edit of a width x height canvas runs at: the canvas's own
    size (at most `work_side`), sides rounded to 16 (also what the compute floors count)."""
    shrunk_width, shrunk_height = _shrunk_size(width, height, work_side)
    return _multiple_of_16(shrunk_width), _multiple_of_16(shrunk_height)


def _area(cx: float, cy: float) -> str:
    row = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
    column = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "centre"
    return f"in the {row} {column}"


class QwenImageEditText(runtime.PipelineBackend):
    """TextRenderer protocol on Qwen-Image-Edit, verified, typesetting as fallback."""

    name = "qwen-image-edit"
    needs_product_mask = True  # `render(..., product_mask=)`: the edit check's fidelity region
    OUTPUT_SETTINGS = ("source", "kind", "steps", "true_cfg_scale", "negative_prompt",
                       "attempts", "seed", "thresholds", "work_side", "plus_areas", "lora",
                       "lora_weight_name", "lora_scale")

    def __init__(self, source: str = "Qwen/Qwen-Image-Edit-2509", *,
                 kind: PipelineKind | None = None, steps: int = 40,
                 true_cfg_scale: float = 4.0, negative_prompt: str = " ", attempts: int = 3,
                 seed: int = 0, thresholds: EditThresholds | None = None,
                 fallback: TextRenderer | None = None, ocr: OcrReader | None = None,
                 work_side: int | None = None, plus_areas: tuple[int, int] | None = None,
                 text_encoder_from: Any = None, lora: str | None = None,
                 lora_weight_name: str | None = None, lora_scale: float = 1.0,
                 device: str | None = None) -> None:
        """work_side: edit at most this side, then resize back (tiny models).
        lora: a LoRA for the transformer (hub id, folder or .safetensors file; its file
        `lora_weight_name` inside a repo or folder), loaded right after the pipeline at
        `lora_scale`; the steps and CFG given are the LoRA's recipe (8 steps, 1.0).
        text_encoder_from: a backend whose loaded `vl_model` is this pipeline's text
        encoder (the layout analyzer `from_edit_pipeline`): borrowed, not loaded again.
        plus_areas: (VAE, condition) image areas of the Plus pipeline, passed with every
        edit (`sized_plus_pipeline_class`); None keeps diffusers' 1024x1024, 384x384."""
        if steps < 1 or attempts < 1:
            raise ValueError(f"steps ({steps}) and attempts ({attempts}) must be at least 1")
        if true_cfg_scale > 1.0 and not negative_prompt:
            raise ValueError('true CFG needs a negative prompt; " " is enough')
        super().__init__(device)
        self.source = source
        self.kind: PipelineKind = kind or pipeline_kind(source)
        self.steps = steps
        self.true_cfg_scale = true_cfg_scale
        self.negative_prompt = negative_prompt
        self.attempts = attempts
        self.seed = seed
        self.thresholds = thresholds or EditThresholds()
        self.fallback = fallback
        self.ocr = ocr
        self.work_side = work_side
        self.plus_areas = plus_areas
        self.text_encoder_from = text_encoder_from
        self.lora = lora
        self.lora_weight_name = lora_weight_name
        self.lora_scale = lora_scale

    # -- residency --------------------------------------------------------------------
    # (`loaded` and `unload`: `runtime.PipelineBackend`)

    def pipeline_class(self) -> Any:  # a diffusers pipeline class
        from diffusers import QwenImageEditPipeline

        return sized_plus_pipeline_class() if self.kind == "edit-plus" else QwenImageEditPipeline

    def load(self, placement: str = "resident") -> float:
        """Load the pipeline (bf16 on a GPU, fp32 on the CPU) in a placement."""
        from models.neural.memory_apply import apply_placement, nf4_quantization
        from models.neural.qwen2vl_layout import image_only_processor_class

        device, dtype = runtime.device_and_dtype(self.device)
        started = time.perf_counter()
        with runtime.weights_load("Qwen-Image-Edit", self.source,
                                  "ADFORGE_MODELS__QWEN_IMAGE_EDIT__SOURCE"):
            # the processor without its video half, which would need torchvision
            processor = image_only_processor_class().from_pretrained(self.source,
                                                                     subfolder="processor")
            extra = {"quantization_config": nf4_quantization(
                dtype, ["transformer", "text_encoder"])} if placement == "nf4" else {}
            if self.text_encoder_from is not None:
                extra = {"text_encoder": self._borrowed_text_encoder(placement)}
            pipeline = self.pipeline_class().from_pretrained(self.source, processor=processor,
                                                             dtype=dtype, **extra)
        if self.lora:
            self._load_lora(pipeline)
        pipeline.set_progress_bar_config(disable=True)
        self._pipeline = apply_placement(pipeline, placement, device, dtype)
        return time.perf_counter() - started

    def _load_lora(self, pipeline: Any) -> None:
        """The LoRA into the pipeline's transformer, as adapter `LORA_ADAPTER` at
        `lora_scale` (before the placement: an nf4 transformer takes it on its 4-bit
        layers, offload hooks and fp8 storage then cover it too)."""
        location, weight_name = self.lora, self.lora_weight_name
        if Path(location).is_file():  # a file given directly: its folder and name
            location, weight_name = str(Path(location).parent), Path(location).name
        with runtime.weights_load("Qwen-Image-Edit LoRA", self.lora,
                                  "ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA"):
            try:
                pipeline.load_lora_weights(location, weight_name=weight_name,
                                           adapter_name=LORA_ADAPTER)
            except ValueError as error:
                if "PEFT" not in str(error):
                    raise
                raise RuntimeError("loading a LoRA needs peft: pip install peft (part of "
                                   "the `ml` extra)") from error
        pipeline.set_adapters([LORA_ADAPTER], adapter_weights=[self.lora_scale])

    def _borrowed_text_encoder(self, placement: str) -> Any:
        """The lender's loaded encoder (loaded first by the residency manager; loaded
        here when nothing manages the lender). Only placements that leave the encoder
        as it is may borrow it: nf4 would quantise it, offload would move it."""
        if placement not in SHARING_PLACEMENTS:
            raise ValueError(f"a borrowed text encoder allows {', '.join(SHARING_PLACEMENTS)}"
                             f" placements, not {placement!r}")
        lender = self.text_encoder_from
        if not lender.loaded:
            lender.load()
        return lender.vl_model

    # -- TextRenderer protocol --------------------------------------------------------

    def render(self, image: np.ndarray, spec: LayoutSpec, copy: AdCopy, brand: BrandKit,
               product_mask: np.ndarray | None = None) -> TextResult:
        """The verified edit, or the typeset copy when no edit passes."""
        prompt = edit_prompt(spec, copy, brand)
        attempts: list[EditAttempt] = []
        result = None
        for attempt in range(self.attempts):
            seed = self.seed + attempt
            started = time.perf_counter()
            edited = self.edit(image, prompt, seed)
            check = verify_edit(image, edited, spec, copy, self.thresholds,
                                product_mask=product_mask, ocr=self.ocr)
            attempts.append(EditAttempt(
                backend=self.name, seed=seed, passed=check.passed,
                seconds=time.perf_counter() - started, metrics=check.metrics,
                failures=check.failures, notes=check.notes))
            if check.passed:
                result = TextResult(image=edited, backing=image, fits=[])
                break
        if result is None:
            result = self._fall_back(image, spec, copy, brand, attempts)
        return replace(result, attempts=[asdict(attempt) for attempt in attempts])

    def edit(self, image: np.ndarray, prompt: str, seed: int) -> np.ndarray:
        """One edit at the image's size rounded to 16, resized back exactly."""
        from PIL import Image

        height, width = image.shape[:2]
        source = _shrink(image, self.work_side)
        edit_width, edit_height = edit_size(width, height, self.work_side)
        with runtime.resident(self):
            edited = runtime.run_pipeline(
                self._pipeline, seed, image=Image.fromarray(source), prompt=prompt,
                num_inference_steps=self.steps, height=edit_height, width=edit_width,
                **self._guidance_options(), **self._area_options())[0]
        if edited.shape[:2] != (height, width):
            shrinking = edited.shape[0] > height
            edited = cv2.resize(edited, (width, height), interpolation=cv2.INTER_AREA
                                if shrinking else cv2.INTER_CUBIC)
        return edited

    def _guidance_options(self) -> dict[str, Any]:
        """True CFG with the negative prompt, or neither (a distilled LoRA's recipe:
        diffusers would only warn about a negative prompt it does not use)."""
        if self.true_cfg_scale <= 1.0:
            return {"true_cfg_scale": 1.0}
        return {"negative_prompt": self.negative_prompt, "true_cfg_scale": self.true_cfg_scale}

    def _area_options(self) -> dict[str, int]:
        """The Plus pipeline's working areas for this edit (none: diffusers' own)."""
        if self.kind != "edit-plus" or not self.plus_areas:
            return {}
        vae_area, condition_area = self.plus_areas
        return {"vae_image_area": vae_area, "condition_image_area": condition_area}

    def _fall_back(self, image: np.ndarray, spec: LayoutSpec, copy: AdCopy,
                   brand: BrandKit, attempts: list[EditAttempt]) -> TextResult:
        """The typeset copy; the fallback's attempt is added to `attempts`."""
        fallback = self.fallback if self.fallback is not None else _typesetter()
        failures = attempts[-1].failures if attempts else []
        log.warning("text: %d edit(s) failed verification (%s); typesetting instead",
                    len(attempts), "; ".join(failures))
        started = time.perf_counter()
        result = fallback.render(image, spec, copy, brand)
        attempts.append(EditAttempt(
            backend=fallback.name, seed=None, passed=True,
            seconds=time.perf_counter() - started,
            notes=[f"fallback after {self.attempts} failed edit(s)"]))
        return result


def _typesetter() -> TextRenderer:
    from models.classic.text import TypesetRenderer

    return TypesetRenderer()


@cache
def sized_plus_pipeline_class() -> Any:  # a diffusers pipeline class
    """`QwenImageEditPlusPipeline` whose working areas are call arguments.

    diffusers' `__call__` reads the areas of the VAE image (1024x1024) and of the
    condition image the text encoder sees (384x384) from module constants. Setting those
    would change every Plus pipeline in the process, mid-run in another thread too; this
    subclass runs the parent's `__call__` code against a copy of its module's namespace
    in which `vae_image_area` / `condition_image_area` replace the constants: the same
    computation, each call with its own areas.
    """
    import diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus as plus
    import torch

    parent_call = inspect.unwrap(plus.QwenImageEditPlusPipeline.__call__)
    constants = {"VAE_IMAGE_SIZE", "CONDITION_IMAGE_SIZE"}
    if not constants <= set(parent_call.__code__.co_names):
        raise RuntimeError("this diffusers' QwenImageEditPlusPipeline no longer reads "
                           f"{sorted(constants)}; update sized_plus_pipeline_class")

    class SizedQwenImageEditPlusPipeline(plus.QwenImageEditPlusPipeline):
        @torch.no_grad()
        def __call__(self, *args: Any, vae_image_area: int | None = None,
                     condition_image_area: int | None = None, **kwargs: Any) -> Any:
            namespace = dict(vars(plus))
            namespace["VAE_IMAGE_SIZE"] = vae_image_area or plus.VAE_IMAGE_SIZE
            namespace["CONDITION_IMAGE_SIZE"] = condition_image_area or plus.CONDITION_IMAGE_SIZE
            call = types.FunctionType(parent_call.__code__, namespace, parent_call.__name__,
                                      parent_call.__defaults__, parent_call.__closure__)
            call.__kwdefaults__ = parent_call.__kwdefaults__
            return call(self, *args, **kwargs)

    return SizedQwenImageEditPlusPipeline
