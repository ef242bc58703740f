"""Full-size neural stages on a GPU: AdForge's plan against the naive recipe.

    python benchmarks/gpu_full_size.py [--flux schnell|dev] [--batch 8] [--json]
    python benchmarks/gpu_full_size.py --scale tiny      # the same path, tiny, on the CPU
    python benchmarks/gpu_full_size.py --dry-run         # plan and compute floors only

Full scale (a CUDA GPU; the process capped at `--budget-gib`, 24 GiB, with
`torch.cuda.set_per_process_memory_fraction`): every stage's model built from its real
config with random weights (no download; `benchmarks.gpu_configs`, `gpu_weights`), run
at production settings (1024x1024; FLUX.1-schnell 4 steps or FLUX.1-dev 28;
Qwen-Image-Edit-2509 40 steps, true CFG 4.0; BiRefNet at 1024; Qwen2-VL-7B: a 1024
image and 300 generated tokens) through AdForge's own backends (`gpu_backends`), by two
recipes (`gpu_stages`):
- AdForge's plan over a batch: stage-major, each model loaded once through the residency
  manager, which places it as `models.profiles.memory_plan("gpu-24gb")` does (BiRefNet
  resident, FLUX fp8, Qwen2-VL resident, Qwen-Image-Edit nf4);
- the naive recipe over `--naive-products`: bf16 pipelines with
  `enable_model_cpu_offload()`, each model loaded and unloaded around every product.
It prints per stage: seconds per product, the compute floor, their ratio, peak GiB,
load + unload seconds per product as a share of the compute, and the speed-up vs naive
(`gpu_report`). Tiny scale runs the same code on the CPU with the tiny checkpoints'
configs and the tiny profile's settings.

The compute floor (all that `--dry-run` prints; no GPU needed): FLOPs from the real
configs, token counts, steps and CFG, divided by 800 TFLOP/s (a dense bf16 H100 figure).
A floor is what no implementation can beat; measured seconds divided by the floor is
the efficiency.

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


STAGE_NAMES = ("segment", "background", "layout", "text")
SCALE_DEFAULTS = {"full": {"size": 1024, "batch": 8, "naive_products": 2, "edit_steps": 40},
                  "tiny": {"size": 64, "batch": 2, "naive_products": 1, "edit_steps": 2}}
NOTES = (
    "weights are random, built from the model configs (the real ones at full scale); a load "
    "reads them from host memory (a checkpoint already in the page cache): a cold read from "
    "disk adds about weights / disk bandwidth",
    "BiRefNet is a stand-in (benchmarks/birefnet_standin.py): a Swin-L backbone over the "
    "photo and its half-size copy and a lighter decoder, 0.20 B parameters against 0.22 B",
    "tokenizers have small offline vocabularies (models.tiny): T5 and CLIP pad to their "
    "fixed lengths as the real ones do; Qwen prompts are cut to token counts (layout "
    "question, edit instruction), but Qwen-Image's system template reads about 280 tokens "
    "longer than with the real tokenizer (about 2% more transformer tokens)",
    "layout: one turn generating exactly the answer tokens; text: one edit (AdForge's "
    "verification, its retries and OCR are not timed)",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan and the compute floors; load nothing")
    parser.add_argument("--scale", choices=("full", "tiny"), default="full",
                        help="full: real configs on a CUDA GPU; tiny: tiny configs on the CPU")
    parser.add_argument("--batch", type=int, help="products per batch (full 8, tiny 2)")
    parser.add_argument("--naive-products", type=int,
                        help="products the naive recipe runs (full 2, tiny 1; 0: skip it)")
    parser.add_argument("--size", type=int, help="master side in pixels (full 1024, tiny 64)")
    parser.add_argument("--flux", choices=("schnell", "dev"), default="schnell")
    parser.add_argument("--edit-steps", type=int, help="Qwen-Image-Edit steps (full 40)")
    parser.add_argument("--stages", default=",".join(STAGE_NAMES),
                        help=f"comma-separated, from {','.join(STAGE_NAMES)}")
    parser.add_argument("--budget-gib", type=float, default=24.0,
                        help="GPU memory cap of the process, and the residency budget")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    for name, value in SCALE_DEFAULTS[args.scale].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.stages = tuple(stage.strip() for stage in args.stages.split(",") if stage.strip())
    unknown = set(args.stages) - set(STAGE_NAMES)
    if unknown or not args.stages:
        parser.error(f"--stages: unknown {', '.join(sorted(unknown)) or 'empty list'}; "
                     f"use some of {','.join(STAGE_NAMES)}")
    if args.batch < 1 or args.naive_products < 0 or args.size < 64 or args.size % 16:
        parser.error("--batch must be >= 1, --naive-products >= 0, --size a multiple of 16 "
                     ">= 64")
    return args


def print_floors(args: argparse.Namespace) -> None:
    rows = floors(args.size, args.flux, args.edit_steps)
    total = sum(row.floor_s for row in rows)
    if args.json:
        print(json.dumps({"batch": args.batch, "floors": [asdict(r) for r in rows],
                          "floor_s_per_product": total}))
        return
    print(f"compute floors at {PEAK_FLOPS / 1e12:.0f} TFLOP/s, {args.size}x{args.size}, "
          f"per product (batch of {args.batch}: x{args.batch})")
    for row in rows:
        print(f"  {row.stage:<11} {row.model:<22} {row.tflops:>10.1f} TFLOP "
              f"{row.floor_s:>8.3f} s   24 GiB plan: {row.placement_24gb:<13} {row.settings}")
    print(f"  {'all stages':<34} {total:>19.3f} s per product")


# -- the measurement ---------------------------------------------------------------------

def planned_placements(args: argparse.Namespace) -> dict[str, str]:
    """Each chosen stage's placement in the budget, as the residency manager will pick it."""
    from benchmarks.gpu_stages import STAGES, declared_footprint
    from models.memory_modes import GIB, NoPlacementError, choose_placement

    planned = {}
    for spec in STAGES:
        try:
            planned[spec.stage] = choose_placement(declared_footprint(spec.key),
                                                   int(args.budget_gib * GIB), spec.placements)
        except NoPlacementError:
            planned[spec.stage] = "does not fit"
    return {stage: planned[stage] for stage in args.stages}


def environment_problem(args: argparse.Namespace) -> str | None:
    """Why this machine cannot run the measurement asked for (None: it can)."""
    import torch

    from benchmarks.gpu_weights import bitsandbytes_available

    if args.scale == "full" and not torch.cuda.is_available():
        return (f"full scale needs a CUDA GPU, and torch {torch.__version__} sees none "
                "(torch.cuda.is_available() is False). Run with --scale tiny for the same "
                "code path on the CPU, or --dry-run for the plan and the compute floors.")
    needs_nf4 = [stage for stage, placement in planned_placements(args).items()
                 if placement == "nf4"]
    if args.scale == "full" and needs_nf4 and not bitsandbytes_available():
        return (f"the {args.budget_gib:g} GiB plan runs {', '.join(needs_nf4)} in nf4, which "
                "needs bitsandbytes: pip install bitsandbytes (or leave the stage out with "
                "--stages)")
    return None


def allowed_placements(args: argparse.Namespace) -> tuple[tuple[str, ...], list[str]]:
    """The 24 GiB profile's placements (nf4 left out on a CPU without bitsandbytes)."""
    from adforge.profiles import PROFILES
    from benchmarks.gpu_weights import bitsandbytes_available

    placements: tuple[str, ...] = PROFILES["gpu-24gb"].memory_placements
    if bitsandbytes_available():
        return placements, []
    return tuple(p for p in placements if p != "nf4"), [
        "bitsandbytes is not installed: nf4 is left out, so a stage the plan puts in nf4 "
        "runs in the next lighter placement that fits"]


def cap_memory(budget_gib: float) -> float:
    """The process's share of the GPU: budget / total (at most all of it)."""
    import torch

    total = torch.cuda.get_device_properties(0).total_memory
    fraction = min(1.0, budget_gib * 1024 ** 3 / total)
    torch.cuda.set_per_process_memory_fraction(fraction)
    return fraction


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """transformers' and diffusers' warnings (prompt truncation, random weights) off."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    levels = transformers_logging.get_verbosity(), diffusers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    diffusers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(levels[0])
        diffusers_logging.set_verbosity(levels[1])


def run_measurement(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from benchmarks import gpu_configs, gpu_report
    from benchmarks.gpu_stages import measure
    from models.memory_modes import GIB

    # 1. the scale, the placements and the memory cap
    if args.scale == "full":
        scale = gpu_configs.full_scale(args.size, args.flux, args.edit_steps)
        cap_memory(args.budget_gib)
        device, cap = torch.cuda.get_device_name(0), args.budget_gib
    else:
        scale = gpu_configs.tiny_scale(args.size, args.flux, args.edit_steps)
        device, cap = "cpu (peak memory not measured)", None
    placements, notes = allowed_placements(args)
    # 2. every stage by both recipes
    with quiet_libraries():
        runs = measure(scale, args.stages, args.batch, args.naive_products,
                       int(args.budget_gib * GIB), placements)
    # 3. against the floors
    by_stage = {row.stage: row for row in floors(args.size, args.flux, args.edit_steps)}
    rows = [gpu_report.stage_row(by_stage[run.stage], run) for run in runs]
    if args.scale == "tiny":
        notes.append("tiny scale: the floors are the full-size models' at this size, so "
                     "the ratios to them mean nothing; the code path is the point")
    return {"scale": args.scale, "device": device, "cap_gib": cap,
            "dtype": "bf16" if scale.on_gpu else "fp32",
            "size": args.size, "flux": args.flux, "edit_steps": args.edit_steps,
            "batch": args.batch, "naive_products": args.naive_products, "stages": rows,
            "totals": gpu_report.totals(rows), "notes": list(NOTES) + notes}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.dry_run:
        print_floors(args)
        return 0
    from models.residency import enable_expandable_segments

    enable_expandable_segments()  # before torch starts CUDA
    problem = environment_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    report = run_measurement(args)
    if args.json:
        print(json.dumps(report))
    else:
        from benchmarks.gpu_report import print_table

        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
