"""Renditions: every platform re-composed from the master's layers at its own aspect.

No model runs here: layout and type are the classic ones (`analyzer`, `renderer`), a
procedural backdrop is generated again at the frame's size and a neural one is
cover-scaled from the stored master. A 220-pixel thumbnail is stored beside each ad for
the contact sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adforge.imaging.contact_sheet import CELL, thumbnail
from adforge.imaging.renditions import compose_rendition, fit_background
from adforge.specs import rendition_spec
from adforge.stagecache import Manifest, RunConfig, StageOutput, run_cached
from adforge.stages.background import background_request
from adforge.stages.job import Outcome, ProductJob, ad_png, blob_image, each, layer_png


@dataclass(frozen=True)
class RenditionBackends:
    """What re-composes a frame: the run's backdrop generator (regenerated at the frame's
    size when procedural), and the classic layout and typesetting."""

    background: Any
    layout: Any
    text: Any


def rendition_products(cfg: RunConfig, jobs: list[ProductJob], platforms: list[str],
                       backends: RenditionBackends) -> list[Outcome]:
    """Each product's job with a manifest per platform, or what failed it."""
    return each(render_product, cfg, jobs, platforms, backends)


def render_product(cfg: RunConfig, job: ProductJob, platforms: list[str],
                   backends: RenditionBackends) -> ProductJob:
    made = {name: render_platform(cfg, job, name, backends) for name in platforms}
    return job.model_copy(update={"renditions": job.renditions | made})


def render_platform(cfg: RunConfig, job: ProductJob, platform: str,
                    backends: RenditionBackends) -> Manifest:
    composite_made, background_made = job.need("composite"), job.need("background")
    spec = rendition_spec(platform)

    def compute() -> StageOutput:
        product = blob_image(cfg, composite_made, "product")
        backdrop = backdrop_for(cfg, job, spec.width, spec.height, backends.background)
        result = compose_rendition(
            spec, product, backdrop, placement=cfg.composite.placement,
            light_x=composite_made.meta["light_x"], copy=job.row.copy, brand=cfg.brand,
            analyzer=backends.layout, renderer=backends.text)
        return StageOutput(blobs={"image": ad_png(result.image),
                                  "thumb": layer_png(thumbnail(result.image))},
                           meta={"width": spec.width, "height": spec.height,
                                 "quality": result.quality,
                                 "layout": result.layout.model_dump(mode="json")})

    return run_cached(cfg, stage="rendition",
                      inputs={"composite": composite_made.key,
                              "background": background_made.key,
                              "copy": job.row.copy.model_dump(),
                              "brand": cfg.brand.model_dump(mode="json")},
                      params={"spec": spec.model_dump(mode="json"),
                              "placement": cfg.composite.placement.model_dump(),
                              "thumb_px": CELL},
                      backend=f"{backends.layout.name}+{backends.text.name}", compute=compute)


def backdrop_for(cfg: RunConfig, job: ProductJob, width: int, height: int,
                 generator: Any) -> np.ndarray:
    """A cheap procedural backdrop is regenerated at the frame's size; anything else
    (a neural backdrop) is cover-scaled from the stored master, so no model runs."""
    if generator.name == "procedural":
        return generator.generate(background_request(cfg, job, width, height))
    return fit_background(blob_image(cfg, job.need("background"), "background"), width, height)
