"""The measurement: each stage run by AdForge's plan and by the naive recipe, over
canvases: a batch of products, each on every chosen platform.

The unit of work is the canvas, (product, platform), as in AdForge's pipeline: a product
is segmented once, then every canvas gets a backdrop at its own aspect
(`generate_batch` over all canvases of the batch), a layout turn on its picture and an
edit at its size (each canvas's picture is the product photo cover-fitted to the
canvas: the composite stands in). Per stage, stage-major:
1. the model's random weights are made in host memory (`benchmarks.gpu_backends`), not
   timed: they stand in for a checkpoint already in the page cache;
2. AdForge's plan: the backend registered with a `ModelManager` (the residency manager
   every worker uses) with the 24 GiB profile's placements and the model's declared
   footprint (`models.profiles`, with the LoRA's bytes under the Lightning recipe), so
   the manager chooses the placement; one load, every canvas of the batch through the
   backend's own batch or per-canvas calls, one release;
3. the naive recipe: the same backend, bf16 pipelines with `enable_model_cpu_offload`
   (BiRefNet and Qwen2-VL loaded whole), loaded and unloaded around every product (its
   canvases in between);
4. each recipe's peak device memory (`torch.cuda.max_memory_allocated`, reset first) and
   its seconds, the device synchronised around every timed call. Out of memory ends a
   recipe's stage with a message, not the run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from benchmarks.gpu_backends import BACKENDS, StageWeights, make_weights
from benchmarks.gpu_configs import Scale
from models import runtime
from models.memory_modes import GIB, PLACEMENTS, Footprint
from models.residency import ModelManager, is_out_of_memory

PROSE = ("Place the headline in the calm area above the product, the sub-headline under it "
         "and the button label in the lower right corner, away from the product's edges.")


@dataclass
class Canvas:
    platform: str
    request: Any  # the background stage's BackgroundRequest, at the canvas's size
    picture: np.ndarray  # (H, W, 3) uint8: what the layout and text stages see


@dataclass
class Product:
    photo: np.ndarray  # (size, size, 3) uint8: what the segment stage sees
    canvases: list[Canvas]
    seed: int


@dataclass
class RecipeRun:
    """One recipe over one stage: totals over its products (and their canvases)."""

    recipe: str  # "adforge" | "naive"
    products: int
    canvases: int
    placement: str | None = None
    compute_s: float = 0.0
    load_s: float = 0.0
    unload_s: float = 0.0
    peak_gib: float | None = None
    error: str | None = None


@dataclass
class StageRun:
    stage: str
    weights_gb: float
    weights_made_s: float
    adforge: RecipeRun
    naive: RecipeRun | None


# -- the device --------------------------------------------------------------------------

def synchronise(scale: Scale) -> None:
    if scale.on_gpu:
        torch.cuda.synchronize()


def timed(scale: Scale, call: Callable[..., Any], *args: Any) -> float:
    """Seconds of one call, the device synchronised before and after."""
    synchronise(scale)
    started = time.perf_counter()
    call(*args)
    synchronise(scale)
    return time.perf_counter() - started


def reset_peak(scale: Scale) -> None:
    if scale.on_gpu:
        torch.cuda.reset_peak_memory_stats()


def peak_gib(scale: Scale) -> float | None:
    """Peak device memory since the last reset; None on the CPU."""
    return torch.cuda.max_memory_allocated() / GIB if scale.on_gpu else None


# -- inputs ------------------------------------------------------------------------------

def make_products(scale: Scale, count: int,
                  platforms: dict[str, tuple[int, int]]) -> list[Product]:
    """`count` sample products, each with a canvas per platform (width, height): one
    prompt and seed per product, as the background stage asks for a campaign's set."""
    from adforge.brandkit import StylePreset
    from adforge.imaging.renditions import fit_background
    from adforge.samples import SAMPLE_KINDS, render_sample
    from models.contracts import BackgroundRequest

    style = StylePreset(top="#f4efe8", bottom="#e2d8cc", floor="#cfc3b4",
                        prompt="warm marble countertop, soft morning light")
    products = []
    for seed in range(count):
        photo, _ = render_sample(SAMPLE_KINDS[seed % len(SAMPLE_KINDS)], size=scale.size,
                                 seed=seed)
        canvases = [Canvas(platform, BackgroundRequest(width=width, height=height, seed=seed,
                                                       style=style, prompt=style.prompt),
                           fit_background(photo, width, height))
                    for platform, (width, height) in platforms.items()]
        products.append(Product(photo, canvases, seed))
    return products


def canvases_of(products: list[Product]) -> list[Canvas]:
    return [canvas for product in products for canvas in product.canvases]


def text_of_tokens(tokenizer: Any, count: int) -> str:
    """Prose that the tokenizer reads as `count` tokens (give or take one)."""
    text = PROSE
    while len(tokenizer(text).input_ids) < count:
        text += " " + PROSE
    return tokenizer.decode(tokenizer(text).input_ids[:count])


# -- the stages' work, through each backend's own calls ----------------------------------

def segment_work(backend: Any, products: list[Product], scale: Scale) -> None:
    backend.segment_batch([product.photo for product in products])


def background_work(backend: Any, products: list[Product], scale: Scale) -> None:
    """Every canvas's backdrop at its own aspect; canvases generated at one size share
    a forward pass (`batch_size`)."""
    backend.generate_batch([canvas.request for canvas in canvases_of(products)])


def layout_work(backend: Any, products: list[Product], scale: Scale) -> None:
    tokenizer = backend.weights.extras["processor"].tokenizer
    question = text_of_tokens(tokenizer, scale.layout_prompt_tokens)
    for canvas in canvases_of(products):
        backend.ask(canvas.picture, [{"role": "user", "content": [
            {"type": "image"}, {"type": "text", "text": question}]}])


def text_work(backend: Any, products: list[Product], scale: Scale) -> None:
    tokenizer = backend.weights.extras["processor"].tokenizer
    instruction = text_of_tokens(tokenizer, scale.edit_prompt_tokens)
    for product in products:
        for canvas in product.canvases:
            backend.edit(canvas.picture, instruction, product.seed)


@dataclass(frozen=True)
class StageSpec:
    stage: str
    key: str  # models.profiles key
    placements: tuple[str, ...]  # what the backend supports (factories.RESIDENT_ONLY or all)
    naive_placement: str
    work: Callable[[Any, list[Product], Scale], None]


STAGES = (
    StageSpec("segment", "birefnet", ("resident",), "resident", segment_work),
    StageSpec("background", "flux", PLACEMENTS, "model_offload", background_work),
    StageSpec("layout", "qwen2vl", ("resident",), "resident", layout_work),
    StageSpec("text", "qwen_image_edit", PLACEMENTS, "model_offload", text_work),
)


# -- the two recipes ---------------------------------------------------------------------

def declared_footprint(key: str, lora: bool = False) -> Footprint:
    """The published model's footprint (`models.profiles`); the edit model's with the
    Lightning LoRA's bytes when `lora`."""
    from models.profiles import LIGHTNING_LORA_BYTES, MODELS, with_adapter

    footprint = next(entry.footprint for entry in MODELS if entry.key == key)
    return with_adapter(footprint, LIGHTNING_LORA_BYTES) if lora else footprint


def out_of_memory(error: Exception) -> str:
    """What a recipe reports when it ran out of memory; any other error is raised."""
    if not is_out_of_memory(error):
        raise error
    return f"out of memory: {str(error).splitlines()[0][:160]}"


def run_adforge(spec: StageSpec, weights: StageWeights, scale: Scale,
                products: list[Product], budget_bytes: int,
                placements: tuple[str, ...]) -> RecipeRun:
    """One load (the manager picks the placement), the whole batch, one release."""
    backend = BACKENDS[spec.key](weights, scale)
    manager = ModelManager(budget_bytes, placements=placements,
                           probe=torch.cuda.memory_allocated if scale.on_gpu else None)
    manager.register(spec.key, lambda placement: backend.load(placement) or backend,
                     declared_footprint(spec.key, "lora" in weights.extras),
                     unloader=lambda _model: backend.unload(), placements=placements)
    backend.residency = (manager, spec.key)  # as models.runtime.manage registers it
    run = RecipeRun("adforge", len(products), len(canvases_of(products)))
    reset_peak(scale)
    try:
        run.load_s = timed(scale, manager.get, spec.key)
        run.placement = manager.placement_of(spec.key)
        run.compute_s = timed(scale, spec.work, backend, products, scale)
    except Exception as error:
        run.error = out_of_memory(error)
    run.unload_s = timed(scale, manager.release, spec.key)
    run.peak_gib = peak_gib(scale)
    runtime.free_memory()
    return run


def run_naive(spec: StageSpec, weights: StageWeights, scale: Scale,
              products: list[Product]) -> RecipeRun:
    """Load, one product (all its canvases), unload: for every product."""
    backend = BACKENDS[spec.key](weights, scale)
    run = RecipeRun("naive", len(products), len(canvases_of(products)),
                    placement=spec.naive_placement)
    reset_peak(scale)
    try:
        for product in products:
            run.load_s += timed(scale, backend.load, spec.naive_placement)
            run.compute_s += timed(scale, spec.work, backend, [product], scale)
            run.unload_s += timed(scale, backend.unload)
    except Exception as error:
        run.error = out_of_memory(error)
    backend.unload()
    run.peak_gib = peak_gib(scale)
    runtime.free_memory()
    return run


def progress(stage: str, run: RecipeRun) -> None:
    """One line per recipe on stderr (a full-size run takes many minutes)."""
    done = run.error or f"{run.compute_s / run.products:.3f} s/product, load " \
        f"{run.load_s:.1f} s, unload {run.unload_s:.1f} s"
    print(f"{stage}: {run.recipe} ({run.placement}) {done}", file=sys.stderr, flush=True)


def measure_stage(spec: StageSpec, scale: Scale, products: list[Product], batch: int,
                  naive_products: int, budget_bytes: int,
                  placements: tuple[str, ...]) -> StageRun:
    started = time.perf_counter()
    weights = make_weights(spec.key, scale)
    made_s = time.perf_counter() - started
    print(f"{spec.stage}: {weights.nbytes / 1e9:.2f} GB of random weights made in "
          f"{made_s:.1f} s", file=sys.stderr, flush=True)
    allowed = tuple(p for p in spec.placements if p in placements)
    adforge = run_adforge(spec, weights, scale, products[:batch], budget_bytes, allowed)
    progress(spec.stage, adforge)
    naive = None
    if naive_products:
        naive = run_naive(spec, weights, scale, products[:naive_products])
        progress(spec.stage, naive)
    stage = StageRun(spec.stage, weights.nbytes / 1e9, made_s, adforge, naive)
    del weights
    runtime.free_memory()
    return stage


def measure(scale: Scale, stages: tuple[str, ...], batch: int, naive_products: int,
            budget_bytes: int, placements: tuple[str, ...],
            platforms: dict[str, tuple[int, int]]) -> list[StageRun]:
    """Every chosen stage, in pipeline order, over the products' canvases."""
    products = make_products(scale, max(batch, naive_products), platforms)
    return [measure_stage(spec, scale, products, batch, naive_products, budget_bytes,
                          placements)
            for spec in STAGES if spec.stage in stages]
