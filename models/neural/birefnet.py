"""BiRefNet segmenter: a dichotomous-segmentation network's probability map, finished by
the same matte refinement and edge decontamination as the classic segmenter.

1. photos resized to `input_size` square (1024 for the published weights), ImageNet
   mean/std normalisation, stacked into micro-batches of `batch_size`;
2. the model (`AutoModelForImageSegmentation`, remote code) returns logit maps, coarse
   to fine; the mask is the sigmoid of the last one;
3. each mask resized back to its photo and finished by `adforge.imaging.matte.finish_cutout`;
4. a confidence from how decided the mask is, and warnings (never an exception) when
   it finds nothing or hesitates.

The model loads on first use (or `load()`), fp16 on a GPU and fp32 on the CPU, and
`unload()` frees it for real. torch and transformers are imported here only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from adforge.imaging.matte import check_photo, finish_segmentation, resize_alpha
from models import runtime
from models.contracts import SegmentResult

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


class ModelUnavailableError(RuntimeError):
    """The weights are neither in a local folder nor in the Hugging Face cache."""


@dataclass(frozen=True)
class LoadReport:
    """What one load cost: bytes of weights, seconds, and where they went."""

    model: str
    nbytes: int
    seconds: float
    device: str
    dtype: str


class BiRefNetSegmenter(runtime.NeuralBackend):
    """Segmenter protocol on a BiRefNet-contract model (hub id or local folder)."""

    name = "birefnet"
    OUTPUT_SETTINGS = ("source", "input_size", "feather_px", "min_confidence")
    batches = True  # segment_batch: `batch_size` photos per forward pass

    def __init__(self, source: str, *, device: str | None = None, half_on_gpu: bool = True,
                 input_size: int = 1024, batch_size: int = 4, feather_px: float = 1.5,
                 min_confidence: float = 0.5) -> None:
        """source: a hub id (`ZhengPeng7/BiRefNet`) or a folder in the same layout.
        device: `cuda`, `cpu`... (default: cuda when available).
        input_size: side of the square the network sees; a multiple of 32.
        batch_size: photos per forward pass (micro-batch)."""
        if input_size % 32 or not 32 <= input_size <= 2048:
            raise ValueError(f"input_size {input_size} must be a multiple of 32 in 32..2048")
        if batch_size < 1:
            raise ValueError(f"batch_size {batch_size} must be at least 1")
        super().__init__(device)
        self.source = source
        self.half_on_gpu = half_on_gpu
        self.input_size = input_size
        self.batch_size = batch_size
        self.feather_px = feather_px
        self.min_confidence = min_confidence
        self._model: Any = None

    # -- residency --------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self, placement: str = "resident") -> LoadReport:
        """Load the weights (once); what the load cost. Only `resident`: the model is
        small (0.44 GB in fp16)."""
        runtime.require_resident("BiRefNet", placement)
        from transformers import AutoModelForImageSegmentation

        device, dtype = runtime.device_and_dtype(
            self.device, "float16" if self.half_on_gpu else "float32")
        started = time.perf_counter()
        with runtime.weights_load("BiRefNet", self.source,
                                  "the setting ADFORGE_MODELS__BIREFNET__SOURCE",
                                  ModelUnavailableError):
            model = AutoModelForImageSegmentation.from_pretrained(
                self.source, trust_remote_code=True, dtype=dtype)
        self._model = model.to(device=device, dtype=dtype).eval()
        nbytes = sum(p.numel() * p.element_size() for p in self._model.parameters())
        return LoadReport(model=self.source, nbytes=nbytes,
                          seconds=time.perf_counter() - started, device=device,
                          dtype=str(dtype).removeprefix("torch."))

    def unload(self) -> None:
        """Drop the model and give its memory back (gc, then the CUDA cache)."""
        if self._model is None:
            return
        self._model = None
        runtime.free_memory()

    # -- Segmenter protocol -----------------------------------------------------------

    def segment(self, image: np.ndarray) -> SegmentResult:
        return self.segment_batch([image])[0]

    def segment_batch(self, images: Sequence[np.ndarray]) -> list[SegmentResult]:
        """Cut several photos, `batch_size` per forward pass."""
        for image in images:
            check_photo(image)
        results: list[SegmentResult] = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start:start + self.batch_size]
            with runtime.resident(self):
                masks = self.predict_masks(chunk)
            results.extend(self._finish(image, mask) for image, mask in zip(chunk, masks,
                                                                            strict=True))
        return results

    def predict_masks(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Sigmoid of the finest logit map, at `input_size`, float32 in [0, 1]."""
        import torch

        parameter = next(self._model.parameters())
        batch = np.stack([self.preprocess(image) for image in images])
        pixels = torch.from_numpy(batch).to(device=parameter.device, dtype=parameter.dtype)
        with torch.inference_mode():
            outputs = self._model(pixels)
        logits = outputs[-1] if isinstance(outputs, (list, tuple)) else outputs
        probability = torch.sigmoid(logits.float())[:, 0].cpu().numpy()
        return list(probability)

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """(3, S, S) float32: resized to the input square, ImageNet-normalised."""
        size = (self.input_size, self.input_size)
        shrinking = max(image.shape[:2]) > self.input_size
        resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking
                             else cv2.INTER_LINEAR)
        normalised = (resized.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        return np.ascontiguousarray(normalised.transpose(2, 0, 1))

    def _finish(self, image: np.ndarray, mask: np.ndarray) -> SegmentResult:
        # At the photo's size already: the matte is refined with the finest radius.
        coarse = resize_alpha(mask, image.shape[:2])
        confidence = mask_confidence(mask)
        rgba, warnings = finish_segmentation(
            image, coarse, confidence, feather_px=self.feather_px,
            min_confidence=self.min_confidence,
            nothing_found="the mask is empty" if (mask >= 0.5).mean() < 0.001 else None,
            doubt="the mask is undecided over much of the photo")
        return SegmentResult(rgba=rgba, confidence=confidence, warnings=warnings)


def mask_confidence(mask: np.ndarray) -> float:
    """0..1: one minus the mean indecision 4p(1-p) (0 where p is 0 or 1, 1 at p = 0.5)."""
    indecision = 4.0 * mask * (1.0 - mask)
    return float(np.clip(1.0 - indecision.mean(), 0.0, 1.0))
