"""Background: every canvas's backdrop, made at the canvas's own size.

Every platform of a product gets the same prompt, style and seed, so its canvases look
like one campaign; each is generated at its own aspect (a neural generator at about a
megapixel, sides rounded to 16, then cover-cropped; the procedural one at the exact
size). A generator that batches (FLUX) makes every backdrop of the batch that is not
stored yet in one call (canvases of one size share a forward pass). With a reference
image (the row's `reference`, else the brand kit's `mood_image`), a generator that
restyles (FLUX img2img) starts from it, at the given strength.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from adforge.errors import StageError
from adforge.imageio import load_image
from adforge.imaging.renditions import fit_background
from adforge.records import BackgroundRequest
from adforge.sources import read_source
from adforge.specs import rendition_spec
from adforge.stagecache import RunConfig, StageOutput, is_stored, run_cached
from adforge.stages.job import (
    CanvasJob,
    Outcome,
    ProductJob,
    attempt,
    batch_call,
    blob_image,
    first_error,
    layer_array,
    product_outcome,
)
from adforge.storage import sha256_bytes

DRAFT_STEPS = 1  # a draft's backdrop: a neural generator's fewest denoising steps


def background_products(cfg: RunConfig, jobs: list[ProductJob],
                        generator: Any) -> list[Outcome]:
    """Each product's job with a `background` manifest on every canvas, or what failed it."""
    canvases = [(job, canvas) for job in jobs for canvas in job.canvases.values()]
    plans = [attempt(plan_backdrop, cfg, job, canvas, generator) for job, canvas in canvases]
    made: dict[int, Any] = {}
    if generator.batches:
        # 1. The plain backdrops not stored yet, 2. made in one model call
        todo = [index for index, plan in enumerate(plans) if isinstance(plan, BackdropPlan)
                and plan.reference is None and not is_stored(cfg, **plan.key)]
        made = dict(zip(todo, batch_call(generator.generate_batch,
                                         [plans[index].request for index in todo]),
                        strict=True))
    # 3. Store each canvas's backdrop (made here when not made above)
    stored = [first_error(plan, made.get(index)) or
              attempt(store_backdrop, cfg, canvas, generator, plan, made.get(index))
              for index, ((_, canvas), plan) in enumerate(zip(canvases, plans, strict=True))]
    return _by_product(jobs, stored)


@dataclass(frozen=True)
class BackdropPlan:
    """What one canvas's backdrop is made from: the request at the canvas's size, the
    reference image to restyle (if any) and the stage-cache key."""

    request: BackgroundRequest
    reference: tuple[bytes, float] | None
    key: dict[str, Any]


def plan_backdrop(cfg: RunConfig, job: ProductJob, canvas: CanvasJob,
                  generator: Any) -> BackdropPlan:
    spec = rendition_spec(canvas.platform)
    request = background_request(cfg, job, spec.width, spec.height)
    reference = reference_of(cfg, job) if generator.restyles else None
    params = request.model_dump() | {"generated": list(generator.generation_size(request))}
    if reference is not None:
        params |= {"reference": sha256_bytes(reference[0]), "strength": reference[1]}
    key = {"stage": "background", "inputs": {}, "params": params,
           "backend": generator.cache_key}
    return BackdropPlan(request, reference, key)


def background_request(cfg: RunConfig, job: ProductJob, width: int,
                       height: int) -> BackgroundRequest:
    """What the generator is asked for: the row's style and prompt (else the brand's),
    the same for every canvas of the product but its size."""
    style = cfg.brand.style(job.row.style)
    prompt = job.row.prompt or style.prompt or cfg.brand.default_prompt
    return BackgroundRequest(width=width, height=height, seed=job.row.seed, style=style,
                             prompt=prompt, negative_prompt=cfg.brand.negative_prompt,
                             steps=DRAFT_STEPS if cfg.draft else None)


def reference_of(cfg: RunConfig, job: ProductJob) -> tuple[bytes, float] | None:
    """The image a restyle starts from, and its strength: the row's, else the kit's."""
    if job.row.reference is not None:
        return (read_source(job.row.reference, cfg.s3, max_bytes=cfg.images.max_bytes),
                job.row.reference_strength)
    if cfg.brand.mood_image is not None:
        return (read_source(cfg.brand.mood_image, cfg.s3, max_bytes=cfg.images.max_bytes),
                cfg.brand.mood_strength)
    return None


def store_backdrop(cfg: RunConfig, canvas: CanvasJob, generator: Any, plan: BackdropPlan,
                   image: np.ndarray | None) -> CanvasJob:
    request = plan.request

    def compute() -> StageOutput:
        backdrop = image if image is not None else make_backdrop(cfg, generator, plan)
        return StageOutput(blobs={"background": layer_array(backdrop)},
                           meta={"width": request.width, "height": request.height,
                                 "generated": plan.key["params"]["generated"],
                                 "restyled": plan.reference is not None})

    manifest = run_cached(cfg, **plan.key, seed=request.seed, compute=compute)
    return canvas.model_copy(update={"background": manifest})


def make_backdrop(cfg: RunConfig, generator: Any, plan: BackdropPlan) -> np.ndarray:
    """One backdrop: restyled from the reference, or generated."""
    if plan.reference is None:
        return generator.generate(plan.request)
    data, strength = plan.reference
    source = load_image(data, name="reference image", **cfg.images.decoding()).rgb
    framed = fit_background(source, plan.request.width, plan.request.height)
    return generator.restyle(framed, plan.request, strength)


def _by_product(jobs: list[ProductJob], stored: list[Any]) -> list[Outcome]:
    """Per-canvas outcomes (in job, canvas order) gathered back into per-product ones."""
    outcomes: list[Outcome] = []
    position = 0
    for job in jobs:
        made = stored[position:position + len(job.canvases)]
        position += len(job.canvases)
        outcomes.append(product_outcome(job, made))
    return outcomes


def recompose_backgrounds(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """No model: each canvas without a backdrop gets the product's nearest stored one (the
    closest aspect ratio), cover-fitted to its size. Canvases that have one keep it."""
    return [attempt(_recompose_product, cfg, job) for job in jobs]


def _recompose_product(cfg: RunConfig, job: ProductJob) -> ProductJob:
    made = [canvas for canvas in job.all_canvases().values() if canvas.background is not None]
    if not made:
        raise StageError(f"{job.sku}: no stored backdrop to recompose from; run the "
                         "campaign with its models first")
    return job.with_canvases([canvas if canvas.background is not None
                              else _recompose_canvas(cfg, canvas, made)
                              for canvas in job.canvases.values()])


def _recompose_canvas(cfg: RunConfig, canvas: CanvasJob, made: list[CanvasJob]) -> CanvasJob:
    spec = rendition_spec(canvas.platform)
    aspect = spec.width / spec.height
    def distance(other: CanvasJob) -> float:
        meta = other.need("background").meta
        return abs(math.log(meta["width"] / meta["height"] / aspect))

    nearest = min(made, key=distance)
    source = nearest.need("background")

    def compute() -> StageOutput:
        backdrop = fit_background(blob_image(cfg, source, "background"), spec.width,
                                  spec.height)
        return StageOutput(blobs={"background": layer_array(backdrop)},
                           meta={"width": spec.width, "height": spec.height,
                                 "generated": source.meta.get("generated"),
                                 "recomposed_from": nearest.platform})

    manifest = run_cached(cfg, stage="background", inputs={"source": source.key},
                          params={"width": spec.width, "height": spec.height},
                          backend="recompose", compute=compute)
    return canvas.model_copy(update={"background": manifest})
