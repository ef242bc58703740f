"""Compute floors: the least GPU time a product's work can take, stage by stage.

A floor is the work's FLOPs over a dense bf16 peak (800 TFLOP/s, an H100 figure): what no
implementation can beat. Measured seconds over the floor is an efficiency; the sum over
a product's stages is what `adforge models plan` prints as GPU seconds per product, and
what `benchmarks/gpu_full_size.py` measures against. Pure Python, no torch.

The unit of work is the canvas, (product, platform): a product is segmented once (its
photo at BiRefNet's input size, 1024x1024), then every canvas gets its backdrop, its
layout and its text.
FLOP model (multiply-add = 2 FLOPs):
- transformer pass: 2 x parameters x tokens + 4 x attention layers x tokens^2 x width;
- FLUX: at the canvas's generation size (its aspect, about `flux.megapixels`:
  `models.neural.flux.native_aspect_size`), tokens = (H/16)(W/16) image + 256 (schnell)
  or 512 (dev) text, 57 blocks of width 3072, 11.9 B parameters, steps x (2 with true
  CFG); T5-XXL (4.76 B) and CLIP once per prompt; a VAE decode scaled by pixels;
- Qwen2-VL-7B layout, one turn per canvas: image tokens = the canvas's pixels bounded by
  `min_pixels`/`max_pixels`, 28x28 pixels each (four 14-pixel patches through the 0.68 B
  vision tower); LLM (7.6 B) prefill over them + 500 prompt tokens, 300 answer tokens.
  Decoding reads every weight per token, so its bandwidth floor (16.6 GB / 3.35 TB/s
  per token) is the floor where it is higher;
- Qwen-Image-Edit(-2509) per canvas at the canvas's size (rounded to 16,
  `models.neural.qwen_image_edit.edit_size`): tokens = (H/16)(W/16) output + the
  condition image's latents (the Plus pipeline's VAE area, 1024x1024: 4096) + 250 text;
  60 blocks of width 3072, 20.4 B parameters; passes = steps x 2 with true CFG, steps
  x 1 with a distilled LoRA (8 steps); the Qwen2.5-VL-7B encoder over the prompt and the
  384x384 condition image, once per pass kind; VAE encode and decode scaled by pixels;
- BiRefNet (Swin-L): 34.5 GFLOPs at 224x224 scaled by pixels, x1.25 for the multi-scale
  input and x1.3 for the decoder (estimate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adforge.model_settings import ModelSettings
from models.neural.flux import VARIANT_DEFAULTS, native_aspect_size, variant_of
from models.neural.qwen_image_edit import edit_size

PEAK_FLOPS = 800e12  # dense bf16, H100 SXM
HBM_BYTES_PER_S = 3.35e12
VAE_DECODE_1024 = 2.5e12  # estimate for a 1024x1024 decode
VAE_ENCODE_1024 = 1.2e12  # estimate for a 1024x1024 encode
SEGMENT_SIDE = 1024  # BiRefNet's input (its settings' default), once per product
LAYOUT_PROMPT_TOKENS = 500
LAYOUT_ANSWER_TOKENS = 300
QWEN_VL_7B_BYTES = 16.6e9
EDIT_TEXT_TOKENS = 250
EDIT_CONDITION_AREA = 384 * 384  # what the edit's text encoder sees of the image
EDIT_VAE_AREA = 1024 * 1024  # the condition image's latents


@dataclass(frozen=True)
class StageFloor:
    """One stage's work for one product: its model, what it does, TFLOPs and the floor."""

    stage: str
    model: str
    settings: str
    tflops: float
    floor_s: float


def transformer_pass(parameters: float, tokens: int, layers: int, width: int) -> float:
    return 2 * parameters * tokens + 4 * layers * tokens ** 2 * width


def birefnet_flops(side: int) -> float:
    return 34.5e9 * (side / 224) ** 2 * 1.25 * 1.3


def flux_flops(width: int, height: int, steps: int, text_tokens: int, cfg: bool) -> float:
    """One backdrop generated at width x height."""
    tokens = (width // 16) * (height // 16) + text_tokens
    passes = steps * (2 if cfg else 1)
    encoders = 2 * 4.76e9 * text_tokens + 2 * 0.12e9 * 77
    return passes * transformer_pass(11.9e9, tokens, 57, 3072) + encoders \
        + VAE_DECODE_1024 * width * height / 1024 ** 2


def qwen2vl_cost(width: int, height: int, min_pixels: int, max_pixels: int,
                 answer_tokens: int = LAYOUT_ANSWER_TOKENS) -> tuple[float, float, int]:
    """One layout turn on a width x height canvas: compute FLOPs, the decode's bandwidth
    floor in seconds, and the image tokens."""
    image_tokens = int(min(max(width * height, min_pixels), max_pixels)) // (28 * 28)
    patches = 4 * image_tokens
    prefill = 2 * 0.68e9 * patches + 2 * 7.6e9 * (image_tokens + LAYOUT_PROMPT_TOKENS)
    decode = 2 * 7.6e9 * answer_tokens
    return prefill + decode, answer_tokens * QWEN_VL_7B_BYTES / HBM_BYTES_PER_S, image_tokens


def qwen_image_edit_flops(width: int, height: int, steps: int, cfg: bool,
                          vae_area: int = EDIT_VAE_AREA) -> float:
    """One edit producing width x height (a multiple of 16)."""
    tokens = (width // 16) * (height // 16) + vae_area // 256 + EDIT_TEXT_TOKENS
    kinds = 2 if cfg else 1  # the prompt, and the negative prompt under true CFG
    encoder_tokens = EDIT_CONDITION_AREA // (28 * 28) + 260
    encoder = kinds * 2 * 8.29e9 * encoder_tokens
    vae = VAE_DECODE_1024 * width * height / 1024 ** 2 + VAE_ENCODE_1024 * vae_area / 1024 ** 2
    return steps * kinds * transformer_pass(20.43e9, tokens, 60, 3072) + encoder + vae


# -- per product ---------------------------------------------------------------------------

def _floor(stage: str, model: str, settings: str, flops: float,
           bandwidth_s: float = 0.0) -> StageFloor:
    return StageFloor(stage, model, settings, flops / 1e12,
                      max(flops / PEAK_FLOPS, bandwidth_s))


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _name(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1]


def segment_floor(side: int = SEGMENT_SIDE) -> StageFloor:
    """Once per product, at the network's input side (`birefnet.input_size`)."""
    return _floor("segment", "BiRefNet (Swin-L)", f"1 photo at {side}x{side}",
                  birefnet_flops(side))


def background_floor(models: ModelSettings, canvases: Sequence[tuple[int, int]]) -> StageFloor:
    chosen = models.flux
    defaults = VARIANT_DEFAULTS[chosen.variant or variant_of(chosen.source)]
    steps = int(chosen.steps or defaults["steps"])
    text = int(chosen.max_sequence_length or defaults["max_sequence_length"])
    cfg = chosen.true_cfg_scale > 1.0
    sizes = [native_aspect_size(w, h, chosen.megapixels, chosen.max_side) for w, h in canvases]
    flops = sum(flux_flops(w, h, steps, text, cfg) for w, h in sizes)
    megapixels = sum(w * h for w, h in sizes) / len(sizes) / 1e6
    return _floor("background", _name(chosen.source),
                  f"{_count(len(sizes), 'canvas', 'canvases')} at their aspect, "
                  f"{megapixels:.2f} MP average, "
                  f"{steps} steps{', true CFG' if cfg else ''}", flops)


def layout_floor(models: ModelSettings, canvases: Sequence[tuple[int, int]]) -> StageFloor:
    chosen = models.qwen2vl
    costs = [qwen2vl_cost(w, h, chosen.min_pixels, chosen.max_pixels) for w, h in canvases]
    flops = sum(cost[0] for cost in costs)
    bandwidth = sum(cost[1] for cost in costs)
    tokens = max(cost[2] for cost in costs)
    source = models.qwen_image_edit.source if chosen.share_edit_text_encoder else chosen.source
    return _floor("layout", _name(source),
                  f"{_count(len(costs), 'turn', 'turns')}, up to {tokens} image tokens, "
                  f"{LAYOUT_ANSWER_TOKENS} answer tokens, decode bandwidth floor "
                  f"{bandwidth:.2f} s", flops, bandwidth)


def text_floor(models: ModelSettings, canvases: Sequence[tuple[int, int]]) -> StageFloor:
    chosen = models.qwen_image_edit
    steps, true_cfg_scale = chosen.recipe()
    cfg = true_cfg_scale > 1.0
    sizes = [edit_size(w, h, chosen.work_side) for w, h in canvases]
    vae_area = chosen.plus_vae_area or EDIT_VAE_AREA
    flops = sum(qwen_image_edit_flops(w, h, steps, cfg, vae_area) for w, h in sizes)
    recipe = f"{steps} steps, " + (f"true CFG {true_cfg_scale:g} (2 passes)" if cfg
                                   else "1 pass" + (" (LoRA)" if chosen.lora else ""))
    model = _name(chosen.source) + (" + LoRA" if chosen.lora else "")
    edits = _count(len(sizes), "edit", "edits")
    return _floor("text", model, f"{edits} at the canvas size, {recipe}; one attempt each",
                  flops)


def product_floors(models: ModelSettings,
                   canvases: Sequence[tuple[int, int]]) -> list[StageFloor]:
    """One product's floors over its canvases (width, height): segment once, then every
    canvas's background, layout and text (summed per stage)."""
    if not canvases:
        raise ValueError("a product needs at least one canvas")
    return [segment_floor(models.birefnet.input_size), background_floor(models, canvases),
            layout_floor(models, canvases), text_floor(models, canvases)]


def assumptions() -> str:
    """What the floors assume, said in one line."""
    return (f"floors at {PEAK_FLOPS / 1e12:.0f} TFLOP/s dense bf16 (H100), "
            f"{HBM_BYTES_PER_S / 1e12:.2f} TB/s for the layout's decoding; one attempt "
            "per edit, no load or transfer time; see models/compute_floors.py")
