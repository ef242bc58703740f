"""Full-size neural stages: the memory plan and each stage's compute floor.

    python benchmarks/gpu_full_size.py --dry-run [--batch 8] [--flux dev] [--json]

What it prints today (no GPU needed): for every stage at production settings
(1024x1024; FLUX.1-schnell 4 steps or FLUX.1-dev 28; Qwen-Image-Edit 40 steps with
true CFG), the placement AdForge's planner gives it in a 24 GiB budget, and its compute
floor: FLOPs from the real configs, token counts, steps and CFG, divided by 800 TFLOP/s
(a dense bf16 H100 figure). A floor is what no implementation can beat; measured
seconds divided by the floor is the efficiency.

NOT DONE YET: the GPU measurement (random full-size weights on the device, capped with
`torch.cuda.set_per_process_memory_fraction` at 24 GiB; seconds per product and peak
memory for AdForge's stage-major plan over a batch vs the naive per-product bf16 +
`enable_model_cpu_offload` recipe). Without `--dry-run` the script says so and exits 2.

FLOP model (per product; multiply-add = 2 FLOPs):
- transformer pass: 2 x parameters x tokens + 4 x attention layers x tokens^2 x width;
- FLUX: tokens = (H/16)(W/16) image + 256 (schnell) or 512 (dev) text, 57 blocks of
  width 3072, 11.9 B parameters; T5-XXL (4.76 B) once per prompt; VAE decode estimate;
- Qwen-Image-Edit: tokens = 2 x (H/16)(W/16) (output + condition latents) + about 250
  text; 60 blocks of width 3072, 20.4 B parameters; passes = steps x 2 (true CFG);
  Qwen2.5-VL-7B encoder over the prompt and a 384x384 condition image, twice (CFG);
- Qwen2-VL-7B layout: vision tower (0.68 B) over 14-pixel patches, LLM (7.6 B) prefill
  over image tokens (28x28 pixels each) + about 500 prompt tokens, 300 answer tokens;
  decoding is memory-bound, so its bandwidth floor (weights / 3.35 TB/s per token) is
  printed too;
- BiRefNet (Swin-L): 34.5 GFLOPs at 224x224 scaled by pixels, x1.25 for the
  multi-scale input and x1.3 for the decoder (estimate).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

PEAK_FLOPS = 800e12  # dense bf16, H100 SXM
HBM_BYTES_PER_S = 3.35e12
VAE_DECODE_1024 = 2.5e12  # estimate for a 1024x1024 decode
VAE_ENCODE_1024 = 1.2e12  # estimate for a 1024x1024 encode


@dataclass(frozen=True)
class StageFloor:
    stage: str
    model: str
    settings: str
    tflops: float
    floor_s: float
    placement_24gb: str


def transformer_pass(parameters: float, tokens: int, layers: int, width: int) -> float:
    return 2 * parameters * tokens + 4 * layers * tokens ** 2 * width


def birefnet_flops(size: int) -> float:
    return 34.5e9 * (size / 224) ** 2 * 1.25 * 1.3


def flux_flops(size: int, steps: int, text_tokens: int, cfg: bool) -> float:
    tokens = (size // 16) ** 2 + text_tokens
    passes = steps * (2 if cfg else 1)
    encoders = 2 * 4.76e9 * text_tokens + 2 * 0.12e9 * 77
    return passes * transformer_pass(11.9e9, tokens, 57, 3072) + encoders \
        + VAE_DECODE_1024 * (size / 1024) ** 2


def qwen_image_edit_flops(size: int, steps: int) -> float:
    tokens = 2 * (size // 16) ** 2 + 250
    encoder_tokens = (384 // 28) ** 2 + 260
    encoder = 2 * (2 * 8.29e9 * encoder_tokens)
    vae = (VAE_DECODE_1024 + VAE_ENCODE_1024) * (size / 1024) ** 2
    return steps * 2 * transformer_pass(20.43e9, tokens, 60, 3072) + encoder + vae


def qwen2vl_flops(size: int, answer_tokens: int = 300) -> tuple[float, float]:
    """Compute FLOPs, and the decode's bandwidth floor in seconds."""
    patches = (size // 14) ** 2
    image_tokens = (size // 28) ** 2
    prefill = 2 * 0.68e9 * patches + 2 * 7.6e9 * (image_tokens + 500)
    decode = 2 * 7.6e9 * answer_tokens
    return prefill + decode, answer_tokens * 16.6e9 / HBM_BYTES_PER_S


def floors(size: int, flux_variant: str, edit_steps: int) -> list[StageFloor]:
    from models.profiles import memory_plan

    placements = {row.key: row.placement for row in memory_plan("gpu-24gb")}
    steps, text = (4, 256) if flux_variant == "schnell" else (28, 512)
    layout, decode_floor = qwen2vl_flops(size)
    rows = [
        ("segment", "BiRefNet (Swin-L)", f"{size}x{size} fp16", birefnet_flops(size),
         "birefnet"),
        ("background", f"FLUX.1-{flux_variant}", f"{steps} steps, guidance-distilled",
         flux_flops(size, steps, text, cfg=False), "flux"),
        ("layout", "Qwen2-VL-7B-Instruct", f"{(size // 28) ** 2} image tokens, 300 answer tokens",
         layout, "qwen2vl"),
        ("text", "Qwen-Image-Edit-2509", f"{edit_steps} steps, true CFG 4.0",
         qwen_image_edit_flops(size, edit_steps), "qwen_image_edit"),
    ]
    result = [StageFloor(stage, model, settings, flops / 1e12, flops / PEAK_FLOPS,
                         placements[key]) for stage, model, settings, flops, key in rows]
    layout_row = result[2]
    result[2] = StageFloor(layout_row.stage, layout_row.model,
                           layout_row.settings + f"; decode bandwidth floor {decode_floor:.2f} s",
                           layout_row.tflops, max(layout_row.floor_s, decode_floor),
                           layout_row.placement_24gb)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan and the compute floors; load nothing")
    parser.add_argument("--batch", type=int, default=8, help="products per batch")
    parser.add_argument("--size", type=int, default=1024, help="master side in pixels")
    parser.add_argument("--flux", choices=("schnell", "dev"), default="schnell")
    parser.add_argument("--edit-steps", type=int, default=40)
    parser.add_argument("--budget-gib", type=float, default=24.0)
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    if not args.dry_run:
        print("the GPU measurement is not implemented yet; run with --dry-run for the plan "
              "and the compute floors", file=sys.stderr)
        return 2
    rows = floors(args.size, args.flux, args.edit_steps)
    total = sum(row.floor_s for row in rows)
    if args.json:
        print(json.dumps({"batch": args.batch, "floors": [asdict(r) for r in rows],
                          "floor_s_per_product": total}))
        return 0
    print(f"compute floors at {PEAK_FLOPS / 1e12:.0f} TFLOP/s, {args.size}x{args.size}, "
          f"per product (batch of {args.batch}: x{args.batch})")
    for row in rows:
        print(f"  {row.stage:<11} {row.model:<22} {row.tflops:>10.1f} TFLOP "
              f"{row.floor_s:>8.3f} s   24 GiB plan: {row.placement_24gb:<13} {row.settings}")
    print(f"  {'all stages':<34} {total:>19.3f} s per product")
    return 0


if __name__ == "__main__":
    sys.exit(main())
