"""Layout: where the copy goes on the master, away from the product (a `LayoutSpec`)."""

from __future__ import annotations

from typing import Any

from adforge.specs import Box, PixelBox
from adforge.stagecache import RunConfig, StageOutput, run_cached
from adforge.stages.job import Outcome, ProductJob, blob_image, each

SAFE_MARGIN = Box(x=0.05, y=0.05, w=0.9, h=0.9)  # of the square master


def layout_products(cfg: RunConfig, jobs: list[ProductJob], analyzer: Any) -> list[Outcome]:
    """Each product's job with its `layout` manifest, or what failed it."""
    return each(layout_product, cfg, jobs, analyzer)


def layout_product(cfg: RunConfig, job: ProductJob, analyzer: Any) -> ProductJob:
    composite_made = job.need("composite")
    size = cfg.composite.master_size
    safe = SAFE_MARGIN.to_pixels(size, size)

    def compute() -> StageOutput:
        image = blob_image(cfg, composite_made, "composite")
        box = PixelBox(*composite_made.meta["product_box"])
        spec = analyzer.analyze(image, box, job.row.copy, cfg.brand, safe)
        return StageOutput(meta={"layout": spec.model_dump(mode="json")})

    manifest = run_cached(cfg, stage="layout",
                          inputs={"composite": composite_made.key,
                                  "copy": job.row.copy.model_dump(),
                                  "brand": cfg.brand.model_dump(mode="json")},
                          params={"safe": list(safe)}, backend=analyzer.cache_key,
                          compute=compute)
    return job.model_copy(update={"layout": manifest})
