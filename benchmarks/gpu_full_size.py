"""Full-size neural stages on a GPU over canvases: AdForge's plan against the naive recipe.

    python benchmarks/gpu_full_size.py [--flux schnell|dev] [--batch 8] [--json]
    python benchmarks/gpu_full_size.py --scale tiny      # the same path, tiny, on the CPU
    python benchmarks/gpu_full_size.py --dry-run         # plan and compute floors only

The unit of work is the canvas, (product, platform), as in AdForge's pipeline: a batch
of products (`--batch`), each on every platform of `--platforms` (default the six
presets). A product is segmented once; every canvas then gets its backdrop at its own
aspect, a layout turn and a text edit at its size.

Full scale (a CUDA GPU; the process capped at `--budget-gib`, 24 GiB, with
`torch.cuda.set_per_process_memory_fraction`): every stage's model built from its real
config with random weights (no download; `benchmarks.gpu_configs`, `gpu_weights`), run
at the gpu-24gb profile's settings (BiRefNet at 1024; FLUX.1-schnell 4 steps or
FLUX.1-dev 28, about 1 MP per canvas; Qwen2-VL-7B, up to 1024 image tokens and 300
generated tokens per canvas; Qwen-Image-Edit-2509 with a random LoRA of the 8-step
Lightning file's shape, 8 steps without CFG, or `--edit-recipe full`: 40 steps, true
CFG 4.0) through AdForge's own backends (`gpu_backends`), by two recipes (`gpu_stages`):
- AdForge's plan over a batch: stage-major, each model loaded once through the residency
  manager, which places it as `adforge models plan --profile gpu-24gb` shows (BiRefNet
  resident, FLUX fp8, Qwen2-VL resident, Qwen-Image-Edit nf4);
- the naive recipe over `--naive-products`: bf16 pipelines with
  `enable_model_cpu_offload()`, each model loaded and unloaded around every product
  (its canvases in between), at the same settings.
It prints per stage: seconds per product, the compute floor, their ratio, peak GiB,
load + unload seconds per product as a share of the compute, and the speed-up vs naive
(`gpu_report`). Tiny scale runs the same code on the CPU with the tiny checkpoints'
configs and the tiny profile's settings.

The compute floors (all that `--dry-run` prints; no GPU needed) are AdForge's own
(`models.compute_floors`, the figures `adforge models plan` prints): FLOPs from the
real configs, token counts, steps and CFG passes per canvas, over 800 TFLOP/s (a dense
bf16 H100 figure); the layout's decoding by its bandwidth floor where that is higher.
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

from models import compute_floors  # noqa: E402


@dataclass(frozen=True)
class StageFloor(compute_floors.StageFloor):
    """A stage's floor per product, with where the 24 GiB plan puts its model."""

    placement_24gb: str


def floors(scale: Any, platforms: dict[str, tuple[int, int]]) -> list[StageFloor]:
    """Per product over its canvases (`models.compute_floors.product_floors`) at the
    scale's settings, with the 24 GiB plan's placements."""
    from models.profiles import memory_plan

    plan = {row.stage: row.placement for row in memory_plan("gpu-24gb", scale.models()
                                                            .for_profile("gpu-24gb"))}
    return [StageFloor(**asdict(floor), placement_24gb=plan[floor.stage])
            for floor in compute_floors.product_floors(scale.models(),
                                                       list(platforms.values()))]


STAGE_NAMES = ("segment", "background", "layout", "text")
SCALE_DEFAULTS = {"full": {"size": 1024, "batch": 8, "naive_products": 2},
                  "tiny": {"size": 64, "batch": 2, "naive_products": 1}}
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
    "canvases: each canvas's picture is the product photo cover-fitted to it (the "
    "composite stands in); layout: one turn per canvas generating exactly the answer "
    "tokens; text: one edit per canvas (AdForge's verification, its retries and OCR are "
    "not timed)",
    "the Lightning recipe's LoRA is random, of the published file's shape (rank 64 over "
    "the blocks' attention and feed-forward linears, 0.85 GB at bf16; tiny: rank 4), "
    "loaded unfused through diffusers' load_lora_weights",
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
    parser.add_argument("--platforms", default=None,
                        help="comma-separated presets or WxH sizes: each product's canvases "
                             "(default: the six presets)")
    parser.add_argument("--size", type=int,
                        help="product photo side in pixels (full 1024, tiny 64)")
    parser.add_argument("--flux", choices=("schnell", "dev"), default="schnell")
    parser.add_argument("--edit-recipe", choices=("lightning", "full"), default="lightning",
                        help="lightning: the gpu-24gb default, a LoRA, 8 steps, CFG off; "
                             "full: 40 steps, true CFG 4.0")
    parser.add_argument("--edit-steps", type=int, help="Qwen-Image-Edit steps (default: "
                                                       "the recipe's; tiny 2)")
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
    try:
        args.platforms = platform_sizes(args.platforms)
    except ValueError as error:
        parser.error(f"--platforms: {error}")
    return args


def platform_sizes(platforms: str | None) -> dict[str, tuple[int, int]]:
    """Canvas (width, height) by platform: presets or WxH; default every preset."""
    from adforge.specs import PRESETS, rendition_spec

    names = [name.strip() for name in (platforms or ",".join(PRESETS)).split(",")
             if name.strip()]
    if not names:
        raise ValueError("no platform named")
    return {spec.name: (spec.width, spec.height) for spec in map(rendition_spec, names)}


def make_scale(args: argparse.Namespace) -> Any:
    """The settings the run uses (`benchmarks.gpu_configs`)."""
    from benchmarks import gpu_configs

    build = gpu_configs.full_scale if args.scale == "full" else gpu_configs.tiny_scale
    return build(args.size, args.flux, args.edit_recipe, args.edit_steps)


def print_floors(args: argparse.Namespace) -> None:
    rows = floors(make_scale(args), args.platforms)
    total = sum(row.floor_s for row in rows)
    if args.json:
        print(json.dumps({"batch": args.batch, "platforms": list(args.platforms),
                          "floors": [asdict(r) for r in rows],
                          "floor_s_per_product": total}))
        return
    count = len(args.platforms)
    print(f"compute floors per product, {count} canvas{'es' if count > 1 else ''} each "
          f"({', '.join(args.platforms)}); batch of {args.batch}: x{args.batch}")
    print(f"  {compute_floors.assumptions()}")
    for row in rows:
        print(f"  {row.stage:<11} {row.model:<28} {row.tflops:>10.1f} TFLOP "
              f"{row.floor_s:>8.3f} s   24 GiB plan: {row.placement_24gb:<13} {row.settings}")
    print(f"  {'all stages':<40} {total:>19.3f} s per product")


# -- the measurement ---------------------------------------------------------------------

def planned_placements(args: argparse.Namespace) -> dict[str, str]:
    """Each chosen stage's placement in the budget, as the residency manager will pick it."""
    from benchmarks.gpu_stages import STAGES, declared_footprint
    from models.memory_modes import GIB, NoPlacementError, choose_placement

    lora = args.edit_recipe == "lightning"
    planned = {}
    for spec in STAGES:
        footprint = declared_footprint(spec.key, lora and spec.key == "qwen_image_edit")
        try:
            planned[spec.stage] = choose_placement(footprint, int(args.budget_gib * GIB),
                                                   spec.placements)
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

    from benchmarks import gpu_report
    from benchmarks.gpu_stages import measure
    from models.memory_modes import GIB

    # 1. the scale, the placements and the memory cap
    scale = make_scale(args)
    if args.scale == "full":
        cap_memory(args.budget_gib)
        device, cap = torch.cuda.get_device_name(0), args.budget_gib
    else:
        device, cap = "cpu (peak memory not measured)", None
    placements, notes = allowed_placements(args)
    # 2. every stage by both recipes, over every canvas
    with quiet_libraries():
        runs = measure(scale, args.stages, args.batch, args.naive_products,
                       int(args.budget_gib * GIB), placements, args.platforms)
    # 3. against the floors
    by_stage = {row.stage: row for row in floors(scale, args.platforms)}
    rows = [gpu_report.stage_row(by_stage[run.stage], run) for run in runs]
    if args.scale == "tiny":
        notes.append("tiny scale: the floors are the full-size models' at the tiny "
                     "settings' sizes, so the ratios to them mean nothing; the code path "
                     "is the point")
    edit_steps, true_cfg = scale.qwen_image_edit.recipe()
    return {"scale": args.scale, "device": device, "cap_gib": cap,
            "dtype": "bf16" if scale.on_gpu else "fp32",
            "size": args.size, "platforms": args.platforms, "flux": args.flux,
            "edit_recipe": args.edit_recipe, "edit_steps": edit_steps,
            "edit_true_cfg_scale": true_cfg,
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
