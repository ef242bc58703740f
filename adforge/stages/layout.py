"""Layout: where the copy goes on each composed canvas (without text), away from the
product and inside the platform's safe area: a `LayoutSpec` for that frame. A neural
analyzer (Qwen2-VL) validates and retries its answers and falls back to the classic
analyzer on its own; the spec says which one answered and why."""

from __future__ import annotations

from typing import Any

from adforge.specs import PixelBox, rendition_spec
from adforge.stagecache import RunConfig, StageOutput, run_cached
from adforge.stages.job import CanvasJob, Outcome, ProductJob, blob_image, each_canvas


def layout_products(cfg: RunConfig, jobs: list[ProductJob], analyzer: Any) -> list[Outcome]:
    """Each product's job with a `layout` manifest on every canvas, or what failed it."""
    return each_canvas(layout_canvas, cfg, jobs, analyzer)


def layout_canvas(cfg: RunConfig, job: ProductJob, canvas: CanvasJob,
                  analyzer: Any) -> CanvasJob:
    composite_made = canvas.need("composite", job.sku)
    spec = rendition_spec(canvas.platform)
    safe = spec.safe_area.to_pixels(spec.width, spec.height)

    def compute() -> StageOutput:
        image = blob_image(cfg, composite_made, "composite")
        box = PixelBox(*composite_made.meta["product_box"])
        layout = analyzer.analyze(image, box, job.row.copy, cfg.brand, safe)
        if not layout.made_by:
            layout = layout.model_copy(update={"made_by": analyzer.name})
        return StageOutput(meta={"layout": layout.model_dump(mode="json")})

    manifest = run_cached(cfg, stage="layout",
                          inputs={"composite": composite_made.key,
                                  "copy": job.row.copy.model_dump(),
                                  "brand": cfg.brand.model_dump(mode="json")},
                          params={"safe": list(safe)}, backend=analyzer.cache_key,
                          compute=compute)
    return canvas.model_copy(update={"layout": manifest})
