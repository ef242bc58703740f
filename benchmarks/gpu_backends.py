"""AdForge's neural backends with their weights built from configs instead of the hub.

Each class is the project's backend (`models.neural.*`), unchanged but for `load`: the
components are materialised from host checkpoints (`benchmarks.gpu_weights`), a
pipeline is assembled from them as `from_pretrained` would assemble it, and the
placement is applied by the project's own code (`models.neural.memory_apply`). Everything a
stage does per product (`segment_batch`, `generate_batch`, `ask`, `edit`) is the
backend's own code path.

Tokenizers are the offline builders of `models.tiny` / `models.tiny_qwen` (small
vocabularies): token counts are what matter for timing, and the pipelines pad T5 and
CLIP prompts to their fixed lengths. `make_weights` builds a stage's host checkpoints,
and for the edit's Lightning recipe a random LoRA of the real file's shape
(`models.tiny_qwen.random_lora_state_dict`), which the edit backend loads through
diffusers' `load_lora_weights` as it loads a real one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from benchmarks import gpu_configs
from benchmarks.gpu_configs import Scale
from benchmarks.gpu_weights import Checkpoint, materialise, quantize_nf4, random_checkpoint
from models import runtime
from models.neural.birefnet import BiRefNetSegmenter
from models.neural.flux import FluxBackground
from models.neural.qwen2vl_layout import Qwen2VLLayoutAnalyzer
from models.neural.qwen_image_edit import LORA_ADAPTER, QwenImageEditText

NF4_COMPONENTS = {"flux": ("transformer", "text_encoder_2"),
                  "qwen_image_edit": ("transformer", "text_encoder")}


@dataclass
class StageWeights:
    """A model's components in host memory, and the tokenizers that go with them."""

    key: str  # models.profiles key
    parts: dict[str, Checkpoint]
    extras: dict[str, Any] = field(default_factory=dict)  # tokenizers, processors

    @property
    def nbytes(self) -> int:
        lora = self.extras.get("lora", {})
        return sum(part.nbytes for part in self.parts.values()) \
            + sum(tensor.nbytes for tensor in lora.values())


def compute_dtype(scale: Scale, key: str) -> torch.dtype:
    """What AdForge loads: bf16 on a GPU (BiRefNet fp16), fp32 on the CPU."""
    return runtime.device_and_dtype(scale.device,
                                    "float16" if key == "birefnet" else "bfloat16")[1]


# -- tokenizers and processors -----------------------------------------------------------

def flux_tokenizers(scale: Scale) -> dict[str, Any]:
    from models.tiny import tiny_clip_tokenizer, tiny_t5_tokenizer

    clip, t5 = tiny_clip_tokenizer(), tiny_t5_tokenizer()
    if scale.name == "full":  # CLIP-L sees 77 tokens; T5 up to 512
        clip.model_max_length, t5.model_max_length = 77, 512
    return {"tokenizer": clip, "tokenizer_2": t5}


def qwen_processor() -> Any:
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

    from models.neural.qwen2vl_layout import image_only_processor_class
    from models.tiny_qwen import CHAT_TEMPLATE, tiny_qwen_tokenizer

    return image_only_processor_class()(image_processor=Qwen2VLImageProcessorPil(),
                                        tokenizer=tiny_qwen_tokenizer(),
                                        chat_template=CHAT_TEMPLATE)


def make_weights(key: str, scale: Scale, seed: int = 0) -> StageWeights:
    """Random host checkpoints of every weighted component of the model `key`."""
    from models.tiny_qwen import special_ids

    extras: dict[str, Any] = {}
    if key == "birefnet":
        builds = gpu_configs.birefnet_configs(scale)
    elif key == "flux":
        extras = flux_tokenizers(scale)
        clip = extras["tokenizer"]
        builds = gpu_configs.flux_configs(scale, {"bos": clip.bos_token_id,
                                                  "eos": clip.eos_token_id,
                                                  "pad": clip.pad_token_id})
    else:
        extras = {"processor": qwen_processor()}
        tokenizer = extras["processor"].tokenizer
        configs = gpu_configs.qwen2vl_configs if key == "qwen2vl" \
            else gpu_configs.qwen_image_edit_configs
        builds = configs(scale, special_ids(tokenizer), len(tokenizer))
    dtype = compute_dtype(scale, key)
    if key == "qwen_image_edit" and scale.lora_rank:
        from models.tiny_qwen import random_lora_state_dict

        extras["lora"] = random_lora_state_dict(gpu_configs.qwen_image_transformer(scale),
                                                scale.lora_rank, seed=seed, dtype=dtype)
    parts = {name: random_checkpoint(build, dtype, scale.device, seed + index)
             for index, (name, build) in enumerate(builds.items())}
    return StageWeights(key, parts, extras)


def _components(weights: StageWeights, placement: str, dtype: torch.dtype) -> dict[str, Any]:
    """Every component materialised (the nf4 ones quantized on their way to the device)."""
    modules = {name: materialise(part) for name, part in weights.parts.items()}
    if placement == "nf4":
        for name in NF4_COMPONENTS[weights.key]:
            quantize_nf4(modules[name], dtype)
    return modules


# -- the backends ------------------------------------------------------------------------

class BuiltSegmenter(BiRefNetSegmenter):
    """`BiRefNetSegmenter` on the stand-in network (`benchmarks.birefnet_standin`)."""

    def __init__(self, weights: StageWeights, scale: Scale) -> None:
        chosen = scale.birefnet
        super().__init__("benchmark: Swin-L BiRefNet stand-in", device=scale.device,
                         half_on_gpu=chosen.half_on_gpu, input_size=chosen.input_size,
                         batch_size=chosen.batch_size)
        self.weights = weights

    def load(self, placement: str = "resident") -> float:  # type: ignore[override]
        runtime.require_resident("BiRefNet", placement)
        started = time.perf_counter()
        self._model = materialise(self.weights.parts["model"]).to(self.device)
        return time.perf_counter() - started


class BuiltFlux(FluxBackground):
    """`FluxBackground` on a `FluxPipeline` assembled from built components."""

    def __init__(self, weights: StageWeights, scale: Scale) -> None:
        chosen = scale.flux
        super().__init__(f"benchmark: FLUX.1-{chosen.variant} from its config",
                         variant=chosen.variant, steps=chosen.steps, guidance=chosen.guidance,
                         true_cfg_scale=chosen.true_cfg_scale,
                         max_sequence_length=chosen.max_sequence_length,
                         template=chosen.template, batch_size=chosen.batch_size,
                         megapixels=chosen.megapixels, max_side=chosen.max_side,
                         device=scale.device)
        self.weights = weights
        self.dtype = compute_dtype(scale, "flux")

    def load(self, placement: str = "resident") -> float:
        from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline

        from models.neural.memory_apply import apply_placement

        started = time.perf_counter()
        dynamic = self.variant == "dev"  # schnell: shift 1, dev: resolution-dependent
        scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0 if dynamic else 1.0,
                                                    use_dynamic_shifting=dynamic)
        pipeline = FluxPipeline(scheduler=scheduler, **self.weights.extras,
                                **_components(self.weights, placement, self.dtype))
        pipeline.set_progress_bar_config(disable=True)
        self._pipeline = apply_placement(pipeline, placement, self.device, self.dtype)
        self.placement = placement
        return time.perf_counter() - started


class BuiltLayout(Qwen2VLLayoutAnalyzer):
    """`Qwen2VLLayoutAnalyzer` on a built Qwen2-VL; every turn generates exactly
    `layout_answer_tokens` (random weights never stop on their own, or stop at once)."""

    def __init__(self, weights: StageWeights, scale: Scale) -> None:
        chosen = scale.qwen2vl
        tokens = scale.layout_answer_tokens
        super().__init__("benchmark: Qwen2-VL from its config", min_pixels=chosen.min_pixels,
                         max_pixels=chosen.max_pixels, max_new_tokens=tokens, retries=0,
                         device=scale.device, generate_options={"min_new_tokens": tokens})
        self.weights = weights
        self.dtype = compute_dtype(scale, "qwen2vl")

    def load(self, placement: str = "resident") -> float:
        runtime.require_resident("the Qwen2-VL layout model", placement)
        started = time.perf_counter()
        model = materialise(self.weights.parts["model"])
        text = model.config.text_config
        model.generation_config.eos_token_id = text.eos_token_id
        model.generation_config.pad_token_id = text.pad_token_id
        processor = self.weights.extras["processor"]
        processor.image_processor.size = {"shortest_edge": self.min_pixels,
                                          "longest_edge": self.max_pixels}
        self._processor, self._model = processor, model.to(self.device)
        return time.perf_counter() - started


class BuiltEdit(QwenImageEditText):
    """`QwenImageEditText` (Plus pipeline, 2509) assembled from built components, with
    the random LoRA of `weights` under the Lightning recipe (its steps, CFG off)."""

    def __init__(self, weights: StageWeights, scale: Scale) -> None:
        chosen = scale.qwen_image_edit
        steps, true_cfg_scale = chosen.recipe()
        super().__init__("benchmark: Qwen-Image-Edit-2509 from its config", kind="edit-plus",
                         steps=steps, true_cfg_scale=true_cfg_scale,
                         negative_prompt=chosen.negative_prompt, attempts=1,
                         work_side=chosen.work_side,
                         plus_areas=(chosen.plus_vae_area, chosen.plus_condition_area),
                         lora=chosen.lora, lora_scale=chosen.lora_scale, device=scale.device)
        self.weights = weights
        self.dtype = compute_dtype(scale, "qwen_image_edit")

    def load(self, placement: str = "resident") -> float:
        from diffusers import FlowMatchEulerDiscreteScheduler

        from models.neural.memory_apply import apply_placement

        started = time.perf_counter()
        processor = self.weights.extras["processor"]
        scheduler = FlowMatchEulerDiscreteScheduler(
            use_dynamic_shifting=True, base_shift=0.5, max_shift=0.9,
            max_image_seq_len=8192, shift_terminal=0.02)  # Qwen-Image's
        pipeline = self.pipeline_class()(scheduler=scheduler, tokenizer=processor.tokenizer,
                                         processor=processor,
                                         **_components(self.weights, placement, self.dtype))
        if self.lora:
            self._load_lora(pipeline)
        pipeline.set_progress_bar_config(disable=True)
        self._pipeline = apply_placement(pipeline, placement, self.device, self.dtype)
        return time.perf_counter() - started


    def _load_lora(self, pipeline: Any) -> None:
        """The random LoRA from host memory, through the same diffusers call."""
        pipeline.load_lora_weights(self.weights.extras["lora"], adapter_name=LORA_ADAPTER)
        pipeline.set_adapters([LORA_ADAPTER], adapter_weights=[self.lora_scale])


BACKENDS = {"birefnet": BuiltSegmenter, "flux": BuiltFlux, "qwen2vl": BuiltLayout,
            "qwen_image_edit": BuiltEdit}
