"""Background: the product's master backdrop (square, `composite.master_size`).

A generator that batches (FLUX) makes every backdrop of the batch that is not stored yet
in one call; the others make them one at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adforge.records import BackgroundRequest
from adforge.stagecache import RunConfig, StageOutput, is_stored, run_cached
from adforge.stages.job import Outcome, ProductJob, attempt, batch_call, layer_png


def background_products(cfg: RunConfig, jobs: list[ProductJob],
                        generator: Any) -> list[Outcome]:
    """Each product's job with its `background` manifest, or what failed it."""
    size = cfg.composite.master_size
    requests = [background_request(cfg, job, size, size) for job in jobs]
    made: dict[int, np.ndarray | Exception] = {}
    if generator.batches:
        # 1. The backdrops not stored yet, 2. made in one model call
        todo = [index for index, request in enumerate(requests)
                if not is_stored(cfg, **background_key(generator, request))]
        made = dict(zip(todo, batch_call(generator.generate_batch,
                                         [requests[index] for index in todo]), strict=True))
    # 3. Store each backdrop (generated here when the generator does not batch)
    outcomes: list[Outcome] = []
    for index, (job, request) in enumerate(zip(jobs, requests, strict=True)):
        image = made.get(index)
        outcomes.append(image if isinstance(image, Exception) else
                        attempt(store_background, cfg, job, generator, request, image))
    return outcomes


def background_request(cfg: RunConfig, job: ProductJob, width: int,
                       height: int) -> BackgroundRequest:
    """What the generator is asked for: the row's style and prompt (else the brand's)."""
    style = cfg.brand.style(job.row.style)
    prompt = job.row.prompt or style.prompt or cfg.brand.default_prompt
    return BackgroundRequest(width=width, height=height, seed=job.row.seed, style=style,
                             prompt=prompt, negative_prompt=cfg.brand.negative_prompt)


def background_key(generator: Any, request: BackgroundRequest) -> dict[str, Any]:
    return {"stage": "background", "inputs": {}, "params": request.model_dump(),
            "backend": generator.cache_key}


def store_background(cfg: RunConfig, job: ProductJob, generator: Any,
                     request: BackgroundRequest, image: np.ndarray | None) -> ProductJob:
    def compute() -> StageOutput:
        backdrop = image if image is not None else generator.generate(request)
        return StageOutput(blobs={"background": layer_png(backdrop)})

    manifest = run_cached(cfg, **background_key(generator, request), seed=request.seed,
                          compute=compute)
    return job.model_copy(update={"background": manifest})
