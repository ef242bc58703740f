"""Qwen2-VL layout: the composite, the copy and the brand in, a validated `LayoutSpec` out.

1. a chat turn with the composite (image tokens bounded by `min_pixels`/`max_pixels`)
   and the question (`layout_answer.layout_prompt`);
2. greedy generation; the prompt's ids trimmed before decoding;
3. the answer read robustly (`layout_answer.parse_layout`): JSON extracted, validated,
   boxes clamped to the safe area, boxes over the product refused;
4. on failure one more turn that tells the model what failed (`retries`);
5. then the classic analyzer, with the fallback recorded in the spec's reason.

`analyze_with_attempts` also returns every attempt; they are kept per call, never on
the analyzer, which several worker threads share.

torch and transformers are imported here only; the model loads on first use.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from adforge.brandkit import BrandKit
from adforge.specs import AdCopy, LayoutSpec, PixelBox
from models import runtime
from models.contracts import LayoutAnalyzer
from models.neural.layout_answer import (
    LayoutAnswerError,
    layout_prompt,
    parse_layout,
    retry_prompt,
)

log = logging.getLogger(__name__)
PATCH = 28  # 14-pixel patches merged 2x2: one image token per 28x28 pixels


@dataclass(frozen=True)
class LayoutAttempt:
    """One answer of the model, or the fallback, and what was wrong with it."""

    backend: str
    answer: str
    problems: tuple[str, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


def image_only_processor_class() -> Any:  # a transformers processor class
    """Qwen2VLProcessor without its video processor (which needs torchvision): an
    `__init__` without `video_processor` makes it an image + tokenizer processor."""
    from transformers import Qwen2VLProcessor

    class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
        def __init__(self, image_processor: Any = None, tokenizer: Any = None,
                     chat_template: str | None = None, **kwargs: Any) -> None:
            super().__init__(image_processor, tokenizer, None, chat_template=chat_template,
                             **kwargs)

    return ImageOnlyQwen2VLProcessor


class Qwen2VLLayoutAnalyzer(runtime.NeuralBackend):
    """LayoutAnalyzer protocol on Qwen2-VL, falling back to another analyzer."""

    name = "qwen2-vl"
    OUTPUT_SETTINGS = ("source", "from_edit_pipeline", "min_pixels", "max_pixels",
                       "max_new_tokens", "retries")

    def __init__(self, source: str = "Qwen/Qwen2-VL-7B-Instruct", *,
                 from_edit_pipeline: bool = False, min_pixels: int = 256 * PATCH * PATCH,
                 max_pixels: int = 1024 * PATCH * PATCH,
                 max_new_tokens: int = 512, retries: int = 1, device: str | None = None,
                 fallback: LayoutAnalyzer | None = None,
                 generate_options: dict[str, Any] | None = None) -> None:
        """from_edit_pipeline: `source` is a Qwen-Image-Edit folder or id, whose text
        encoder (a Qwen2.5-VL-7B-Instruct) and processor answer instead; the edit
        pipeline can then borrow the loaded encoder (`vl_model`), one load for both.
        min_pixels/max_pixels: bounds on the image's area as the model sees it (one
        token per 28x28 pixels). retries: extra turns after a failed answer.
        generate_options: extra arguments of `generate` (e.g. a logits processor)."""
        if not PATCH * PATCH <= min_pixels <= max_pixels:
            raise ValueError(f"need {PATCH * PATCH} <= min_pixels ({min_pixels}) <= "
                             f"max_pixels ({max_pixels})")
        if retries < 0 or max_new_tokens < 16:
            raise ValueError("retries must be >= 0 and max_new_tokens >= 16")
        super().__init__(device)
        self.source = source
        self.from_edit_pipeline = from_edit_pipeline
        self.min_pixels = min_pixels
        self.max_pixels = max_pixels
        self.max_new_tokens = max_new_tokens
        self.retries = retries
        self.fallback = fallback
        self.generate_options = generate_options or {}
        self._model: Any = None
        self._processor: Any = None

    # -- residency --------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def vl_model(self) -> Any:
        """The loaded model (None until `load`): what the edit pipeline borrows."""
        return self._model

    def load(self, placement: str = "resident") -> float:
        """Load processor and model (bf16 on a GPU, fp32 on the CPU); resident only."""
        runtime.require_resident("the Qwen2-VL layout model", placement)
        from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLForConditionalGeneration

        device, dtype = runtime.device_and_dtype(self.device)
        model_class: Any = Qwen2VLForConditionalGeneration
        parts: tuple[dict[str, str], dict[str, str]] = ({}, {})
        if self.from_edit_pipeline:
            model_class = Qwen2_5_VLForConditionalGeneration
            parts = ({"subfolder": "processor"}, {"subfolder": "text_encoder"})
        started = time.perf_counter()
        with runtime.weights_load("Qwen2-VL", self.source, "ADFORGE_MODELS__QWEN2VL__SOURCE"):
            processor = image_only_processor_class().from_pretrained(self.source, **parts[0])
            model = model_class.from_pretrained(self.source, dtype=dtype, **parts[1])
        processor.image_processor.size = {"shortest_edge": self.min_pixels,
                                          "longest_edge": self.max_pixels}
        self._processor, self._model = processor, model.to(device).eval()
        return time.perf_counter() - started

    def unload(self) -> None:
        if self._model is None:
            return
        self._model = self._processor = None
        runtime.free_memory()

    # -- LayoutAnalyzer protocol ------------------------------------------------------

    def analyze(self, image: np.ndarray, product_box: PixelBox, copy: AdCopy,
                brand: BrandKit, safe_area: PixelBox) -> LayoutSpec:
        spec, _ = self.analyze_with_attempts(image, product_box, copy, brand, safe_area)
        return spec

    def analyze_with_attempts(self, image: np.ndarray, product_box: PixelBox, copy: AdCopy,
                              brand: BrandKit, safe_area: PixelBox
                              ) -> tuple[LayoutSpec, list[LayoutAttempt]]:
        """The layout, and every attempt at it in order: the model's answers, then the
        fallback's when none validated."""
        frame = (image.shape[1], image.shape[0])
        question = layout_prompt(copy, brand, frame, product_box, safe_area)
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text",
                                                             "text": question}]}]
        attempts: list[LayoutAttempt] = []
        for _ in range(1 + self.retries):
            started = time.perf_counter()
            answer = self.ask(image, messages)
            try:
                spec = parse_layout(answer, frame=frame, product_box=product_box,
                                    safe_area=safe_area, copy=copy)
            except LayoutAnswerError as error:
                attempts.append(self._attempt(answer, error.problems, started))
                messages += [{"role": "assistant", "content": [{"type": "text",
                                                                "text": answer}]},
                             {"role": "user", "content": [
                                 {"type": "text", "text": retry_prompt(error.problems)}]}]
                continue
            attempts.append(self._attempt(answer, [], started))
            return spec.model_copy(update={"made_by": self.name, "fallback": ""}), attempts
        spec = self._fall_back(image, product_box, copy, brand, safe_area, attempts)
        return spec, attempts

    def ask(self, image: np.ndarray, messages: list[dict[str, Any]]) -> str:
        """One greedy answer to the conversation (the image goes with its first turn)."""
        import torch
        from PIL import Image

        with runtime.resident(self), torch.inference_mode():
            text = self._processor.apply_chat_template(messages, add_generation_prompt=True,
                                                       tokenize=False)
            inputs = self._processor(text=[text], images=[Image.fromarray(image)],
                                     return_tensors="pt").to(self._model.device)
            output = self._model.generate(**inputs, max_new_tokens=self.max_new_tokens,
                                          do_sample=False, **self.generate_options)
            answer_ids = output[:, inputs["input_ids"].shape[1]:]
            return self._processor.batch_decode(answer_ids, skip_special_tokens=True)[0]

    def image_tokens(self, image: np.ndarray) -> int:
        """How many image tokens the model sees for this image (bounded by the pixels)."""
        from PIL import Image

        if not self.loaded:
            self.load()
        grid = self._processor.image_processor(images=[Image.fromarray(image)],
                                               return_tensors="pt")["image_grid_thw"]
        return int(grid.prod()) // 4

    # -- helpers ----------------------------------------------------------------------

    def _attempt(self, answer: str, problems: list[str], started: float) -> LayoutAttempt:
        return LayoutAttempt(backend=self.name, answer=answer, problems=tuple(problems),
                             seconds=time.perf_counter() - started)

    def _fall_back(self, image: np.ndarray, product_box: PixelBox, copy: AdCopy,
                   brand: BrandKit, safe_area: PixelBox,
                   attempts: list[LayoutAttempt]) -> LayoutSpec:
        """The fallback's layout, its reason prefixed with what failed; the fallback's
        attempt is added to `attempts`."""
        fallback = self.fallback if self.fallback is not None else _classic_analyzer()
        started = time.perf_counter()
        spec = fallback.analyze(image, product_box, copy, brand, safe_area)
        problems = attempts[-1].problems if attempts else ()
        note = (f"fallback to {fallback.name}: {self.name} failed validation "
                f"{len(attempts)}x ({'; '.join(problems)})")
        log.warning("layout %s", note)
        attempts.append(LayoutAttempt(backend=fallback.name, answer="", problems=(),
                                      seconds=time.perf_counter() - started))
        reason = f"{note}. {spec.reason}"
        return spec.model_copy(update={"reason": reason[:400], "made_by": fallback.name,
                                       "fallback": note[:400]})


def _classic_analyzer() -> LayoutAnalyzer:
    from models.classic.layout import ClassicLayoutAnalyzer

    return ClassicLayoutAnalyzer()
