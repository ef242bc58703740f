"""One Prefect task per stage. Each reads references, runs a backend, stores, records.

The bodies (`task.fn`) are plain Python: `benchmarks/pipeline.py` calls them in a loop
to measure what Prefect adds.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from prefect import task
from prefect.utilities.annotations import BaseAnnotation

from adforge.db import repository as repo
from adforge.errors import ImageInputError, TransientError
from adforge.imageio import LoadedImage, encode_png, load_image
from adforge.imaging.composite import compose_layers, light_of, place_product, retouch_product
from adforge.imaging.contact_sheet import CELL, thumbnail
from adforge.imaging.metrics import alpha_box
from adforge.imaging.renditions import compose_rendition, fit_background
from adforge.sources import read_source
from adforge.specs import Box, LayoutSpec, PixelBox, rendition_spec
from adforge.stagecache import (
    Manifest,
    RunConfig,
    StageOutput,
    database,
    is_stored,
    run_cached,
)
from adforge.storage import sha256_bytes
from models.contracts import BackgroundRequest, SegmentResult
from models.registry import backend
from models.runtime import bind_run
from tasks.common import TASK_OPTIONS, ProductJob, blob_image


def _png(array: np.ndarray) -> tuple[bytes, str]:
    """A deliverable (an ad): compressed PNG."""
    return encode_png(array, level=1), "png"


def _layer_png(array: np.ndarray) -> tuple[bytes, str]:
    """A working layer, read back by later stages: uncompressed PNG, ten times faster."""
    return encode_png(array, level=0), "png"


def _read_photo(job: ProductJob) -> bytes:
    """The photo's bytes, from a local path or an s3:// URI (S3 faults are transient)."""
    try:
        return read_source(job.row.image)
    except FileNotFoundError:
        raise ImageInputError(f"{job.sku}: image {job.row.image} does not exist; fix the "
                              "'image' column or add the file", item=job.sku,
                              field="image") from None


def _crop_to_alpha(rgba: np.ndarray, pad: int = 4) -> np.ndarray:
    box = alpha_box(rgba[..., 3].astype(np.float32) / 255.0, threshold=0.02)
    if box.area == 0:
        raise ImageInputError("the cutout is empty: no product was found in the photo",
                              field="image")
    h, w = rgba.shape[:2]
    y0, y1 = max(0, box.y0 - pad), min(h, box.y1 + pad)
    x0, x1 = max(0, box.x0 - pad), min(w, box.x1 + pad)
    return rgba[y0:y1, x0:x1]


Outcome = ProductJob | Exception  # one product's result inside a batch task


def cache_name(backend: Any) -> str:
    """A backend in stage-cache keys: a neural one's `cache_key` (its name and settings
    digest), else its name."""
    return getattr(backend, "cache_key", backend.name)


def batch_run_name(stage: str) -> Callable[[], str]:
    """A micro-batch task run is named after the stage and every SKU in it."""
    def name() -> str:
        from prefect.runtime import task_run

        jobs = task_run.parameters["jobs"]
        if isinstance(jobs, BaseAnnotation):  # still in the `quote` the flow passed
            jobs = jobs.unwrap()
        return f"{stage}-" + "+".join(job.sku for job in jobs)

    return name


def micro_batch(cfg: RunConfig, stage: str) -> int:
    """Products per task in `stage`: the model's batch size where its backend batches
    (BiRefNet, FLUX), else the run's `products_per_task`."""
    name = getattr(cfg.backends, stage, None)
    model = backend(stage, name, cfg.profile) if name else None
    method = BATCH_TASKS.get(stage, (None, ""))[1]
    if model is not None and hasattr(model, method):
        return int(getattr(model, "batch_size", 1))
    return cfg.products_per_task


def batch_task(name: str, stage: Any) -> Any:
    """The task that runs `stage` over a micro-batch of products: the model-batching one
    where there is one, else `stage`'s body product by product, each failure its own."""
    if name in BATCH_TASKS:
        return BATCH_TASKS[name][0]
    if name not in _BODY_BATCHES:
        body = stage.fn

        def over_batch(cfg: RunConfig, jobs: list[ProductJob],
                       platforms: list[str] | None = None) -> list[Any]:
            extra = () if platforms is None else (platforms,)  # renditions take platforms
            return _retry_transient([_attempt(body, cfg, job, *extra) for job in jobs])

        over_batch.__name__ = over_batch.__qualname__ = f"{name}_batch"  # its task key
        _BODY_BATCHES[name] = task(name=f"{name}-batch",
                                   task_run_name=batch_run_name(name),
                                   **TASK_OPTIONS)(over_batch)
    return _BODY_BATCHES[name]


_BODY_BATCHES: dict[str, Any] = {}


def _attempt(work: Callable[..., Any], *args: Any) -> Any:
    """One product's step inside a batch: its failure is returned as its own outcome, so
    the other products of the batch still do their work."""
    try:
        return work(*args)
    except Exception as error:  # noqa: BLE001 - recorded against this product only
        return error


def _retry_transient(outcomes: list[Any]) -> list[Any]:
    """A batch's transient fault (S3, the database) is raised once every product has had
    its turn, while Prefect has retries left: the retry skips what is already stored.
    After the last retry it stays the failure of the products it hit, and only theirs."""
    fault = next((item for item in outcomes if isinstance(item, TransientError)), None)
    if fault is not None and _retries_left():
        raise fault
    return outcomes


def _retries_left() -> bool:
    from prefect.runtime import task_run

    return task_run.run_count <= TASK_OPTIONS["retries"]  # 0 outside a task run


def _batch_call(method: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[Any]:
    """A backend's batch method over `items`; if it fails, every item fails with it."""
    if not items:
        return []
    outcome = _attempt(method, items)
    return outcome if isinstance(outcome, list) else [outcome] * len(items)


def _first_error(*outcomes: Any) -> Exception | None:
    return next((item for item in outcomes if isinstance(item, Exception)), None)


def _only(outcomes: list[Outcome]) -> ProductJob:
    """The one product of a per-product task: its failure fails the task."""
    (outcome,) = outcomes
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


@task(name="segment", task_run_name="segment-{job.row.sku}", **TASK_OPTIONS)
def segment(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Cut the product out of its photo (a photo that already has alpha is used as is)."""
    return _only(segment_products(cfg, [job]))


@task(name="segment-batch", task_run_name=batch_run_name("segment"), **TASK_OPTIONS)
def segment_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """`segment` over a micro-batch: the model sees `batch_size` photos per pass."""
    return _retry_transient(segment_products(cfg, jobs))


def segment_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    segmenter = backend("segment", cfg.backends.segment, cfg.profile)
    bind_run(cfg.db_url, cfg.run_id)  # model loads and unloads become this run's rows
    photos = [_attempt(_read_photo, job) for job in jobs]
    decoded: dict[int, LoadedImage | Exception] = {}
    cuts: dict[int, SegmentResult | Exception] = {}
    if hasattr(segmenter, "segment_batch"):
        # 1. decode the photos whose cutout is not stored yet
        decoded = {index: _attempt(_decode_photo, cfg, job, data)
                   for index, (job, data) in enumerate(zip(jobs, photos, strict=True))
                   if isinstance(data, bytes)
                   and not is_stored(cfg, **_segment_key(cfg, data, segmenter))}
        # 2. one batched model call over those without an alpha channel of their own
        to_cut = [index for index, image in decoded.items()
                  if isinstance(image, LoadedImage) and image.alpha is None]
        images = [decoded[index].rgb for index in to_cut]  # type: ignore[union-attr]
        cuts = dict(zip(to_cut, _batch_call(segmenter.segment_batch, images), strict=True))
    # 3. store each product's cutout (computed here when the backend does not batch)
    outcomes: list[Outcome] = []
    for index, (job, data) in enumerate(zip(jobs, photos, strict=True)):
        error = _first_error(data, decoded.get(index), cuts.get(index))
        outcomes.append(error or _attempt(_store_cutout, cfg, job, data, segmenter,
                                          decoded.get(index), cuts.get(index)))
    return outcomes


def _segment_key(cfg: RunConfig, data: bytes, segmenter: Any) -> dict[str, Any]:
    return {"stage": "segment", "inputs": {"photo": sha256_bytes(data)},
            "params": cfg.images.model_dump(), "backend": cache_name(segmenter)}


def _decode_photo(cfg: RunConfig, job: ProductJob, data: bytes) -> LoadedImage:
    return load_image(data, name=f"{job.sku} ({job.row.image})", **cfg.images.model_dump())


def _store_cutout(cfg: RunConfig, job: ProductJob, data: bytes, segmenter: Any,
                  loaded: LoadedImage | None, cut: SegmentResult | None) -> ProductJob:
    def compute() -> StageOutput:
        image = loaded or _decode_photo(cfg, job, data)
        if image.alpha is not None:
            rgba = np.dstack([image.rgb, (image.alpha * 255 + 0.5).astype(np.uint8)])
            confidence, warnings = 1.0, ["used the photo's own alpha channel as the cutout"]
        else:
            result = cut or segmenter.segment(image.rgb)
            rgba, confidence, warnings = result.rgba, result.confidence, result.warnings
        return StageOutput(blobs={"cutout": _layer_png(_crop_to_alpha(rgba))},
                           meta={"confidence": confidence, "warnings": warnings,
                                 "notes": image.notes})

    manifest = run_cached(cfg, **_segment_key(cfg, data, segmenter), compute=compute)
    if manifest.meta["confidence"] < cfg.segment.min_confidence:
        repo.record_error(database(cfg.db_url), cfg.run_id, job.sku, "segment", "warning",
                          "; ".join(manifest.meta["warnings"]), field="image")
    return job.model_copy(update={"cutout": manifest})


def background_request(cfg: RunConfig, job: ProductJob, width: int,
                       height: int) -> BackgroundRequest:
    style = cfg.brand.style(job.row.style)
    prompt = job.row.prompt or style.prompt or cfg.brand.default_prompt
    return BackgroundRequest(width=width, height=height, seed=job.row.seed, style=style,
                             prompt=prompt, negative_prompt=cfg.brand.negative_prompt)


@task(name="background", task_run_name="background-{job.row.sku}", **TASK_OPTIONS)
def background(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Make the master background (square, `composite.master_size`)."""
    return _only(background_products(cfg, [job]))


@task(name="background-batch", task_run_name=batch_run_name("background"), **TASK_OPTIONS)
def background_batch(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    """`background` over a micro-batch: prompts of one size share a forward pass."""
    return _retry_transient(background_products(cfg, jobs))


def background_products(cfg: RunConfig, jobs: list[ProductJob]) -> list[Outcome]:
    generator = backend("background", cfg.backends.background, cfg.profile)
    bind_run(cfg.db_url, cfg.run_id)
    size = cfg.composite.master_size
    requests = [background_request(cfg, job, size, size) for job in jobs]
    made: dict[int, np.ndarray | Exception] = {}
    if hasattr(generator, "generate_batch"):
        # 1. the backdrops not stored yet, 2. made in one batched model call
        todo = [index for index, request in enumerate(requests)
                if not is_stored(cfg, **_background_key(generator, request))]
        made = dict(zip(todo, _batch_call(generator.generate_batch,
                                          [requests[index] for index in todo]), strict=True))
    # 3. store each product's backdrop (generated here when the backend does not batch)
    outcomes: list[Outcome] = []
    for index, (job, request) in enumerate(zip(jobs, requests, strict=True)):
        image = made.get(index)
        outcomes.append(image if isinstance(image, Exception) else
                        _attempt(_store_background, cfg, job, generator, request, image))
    return outcomes


def _background_key(generator: Any, request: BackgroundRequest) -> dict[str, Any]:
    return {"stage": "background", "inputs": {}, "params": request.model_dump(),
            "backend": cache_name(generator)}


def _store_background(cfg: RunConfig, job: ProductJob, generator: Any,
                      request: BackgroundRequest, image: np.ndarray | None) -> ProductJob:
    def compute() -> StageOutput:
        backdrop = image if image is not None else generator.generate(request)
        return StageOutput(blobs={"background": _layer_png(backdrop)})

    manifest = run_cached(cfg, **_background_key(generator, request), seed=request.seed,
                          compute=compute)
    return job.model_copy(update={"background": manifest})


# stage -> (its micro-batch task, the backend method that makes a backend batch)
BATCH_TASKS: dict[str, tuple[Any, str]] = {"segment": (segment_batch, "segment_batch"),
                                           "background": (background_batch, "generate_batch")}


@task(name="composite", task_run_name="composite-{job.row.sku}", **TASK_OPTIONS)
def composite(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Retouch the product toward the backdrop's light and compose the layered master."""
    cutout_made, background_made = job.need("cutout"), job.need("background")
    settings = cfg.composite
    light_x = cfg.brand.style(job.row.style).light

    def compute() -> StageOutput:
        cutout = blob_image(cfg, cutout_made, "cutout")
        backdrop = blob_image(cfg, background_made, "background")
        retouched = retouch_product(cutout, light_of(backdrop), harmonise=settings.harmonise,
                                    max_delta_e=settings.max_delta_e,
                                    sharpen=settings.sharpen, contrast=settings.contrast)
        h, w = retouched.rgba.shape[:2]
        size = (backdrop.shape[1], backdrop.shape[0])
        box = place_product((w, h), size, settings.placement)
        layers = compose_layers(retouched.rgba, backdrop, box, light_x=light_x)
        return StageOutput(
            blobs={"product": _layer_png(retouched.rgba),
                   "shadow": _layer_png((layers.shadow * 255 + 0.5).astype(np.uint8)),
                   "composite": _layer_png(layers.flatten())},
            meta={"delta_e": retouched.delta_e, "product_box": list(layers.product_box),
                  "light_x": light_x},
        )

    manifest = run_cached(cfg, stage="composite",
                          inputs={"cutout": cutout_made.key, "background": background_made.key},
                          params=settings.model_dump() | {"light_x": light_x},
                          backend="imaging", compute=compute)
    return job.model_copy(update={"composite": manifest})


@task(name="layout", task_run_name="layout-{job.row.sku}", **TASK_OPTIONS)
def layout(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Decide where the copy goes on the master, away from the product."""
    composite_made = job.need("composite")
    analyzer = backend("layout", cfg.backends.layout, cfg.profile)
    bind_run(cfg.db_url, cfg.run_id)
    size = cfg.composite.master_size
    safe = Box(x=0.05, y=0.05, w=0.9, h=0.9).to_pixels(size, size)

    def compute() -> StageOutput:
        image = blob_image(cfg, composite_made, "composite")
        box = PixelBox(*composite_made.meta["product_box"])
        spec = analyzer.analyze(image, box, job.row.copy, cfg.brand, safe)
        return StageOutput(meta={"layout": spec.model_dump(mode="json")})

    manifest = run_cached(cfg, stage="layout",
                          inputs={"composite": composite_made.key,
                                  "copy": job.row.copy.model_dump(),
                                  "brand": cfg.brand.model_dump(mode="json")},
                          params={"safe": list(safe)}, backend=cache_name(analyzer),
                          compute=compute)
    return job.model_copy(update={"layout": manifest})


@task(name="text", task_run_name="text-{job.row.sku}", **TASK_OPTIONS)
def text(cfg: RunConfig, job: ProductJob) -> ProductJob:
    """Set the copy on the master exactly as the brief says."""
    composite_made, layout_made = job.need("composite"), job.need("layout")
    renderer = backend("text", cfg.backends.text, cfg.profile)
    bind_run(cfg.db_url, cfg.run_id)
    spec = LayoutSpec.model_validate(layout_made.meta["layout"])

    def compute() -> StageOutput:
        image = blob_image(cfg, composite_made, "composite")
        extra = {}
        if "product_mask" in inspect.signature(renderer.render).parameters:  # verifies edits
            extra["product_mask"] = product_mask(cfg, composite_made, image.shape[:2])
        result = renderer.render(image, spec, job.row.copy, cfg.brand, **extra)
        return StageOutput(blobs={"master": _png(result.image)},
                           meta={"fonts": sorted({f.font for f in result.fits}),
                                 "ellipsized": any(f.ellipsized for f in result.fits),
                                 "attempts": result.attempts})

    manifest = run_cached(cfg, stage="text",
                          inputs={"composite": composite_made.key, "layout": layout_made.key,
                                  "copy": job.row.copy.model_dump(),
                                  "brand": cfg.brand.model_dump(mode="json")},
                          params={"min_font_px": cfg.min_font_px}, backend=cache_name(renderer),
                          compute=compute)
    return job.model_copy(update={"text": manifest})


def product_mask(cfg: RunConfig, composite_made: Manifest,
                 shape: tuple[int, int]) -> np.ndarray:
    """Where the product is on the master (alpha >= 0.5): a text edit must not touch it."""
    alpha = blob_image(cfg, composite_made, "product")[..., 3]
    box = PixelBox(*composite_made.meta["product_box"])
    placed = cv2.resize(alpha, (box.width, box.height), interpolation=cv2.INTER_AREA)
    mask = np.zeros(shape, bool)
    mask[box.y0:box.y1, box.x0:box.x1] = placed >= 128
    return mask


@task(name="renditions", task_run_name="renditions-{job.row.sku}", **TASK_OPTIONS)
def renditions(cfg: RunConfig, job: ProductJob, platforms: list[str]) -> ProductJob:
    """Re-compose the master's layers at every platform's size. Runs no model: layout and
    type are the classic ones, and a neural backdrop is re-framed, not regenerated."""
    made = {name: render_platform(cfg, job, name) for name in platforms}
    return job.model_copy(update={"renditions": job.renditions | made})


def render_platform(cfg: RunConfig, job: ProductJob, platform: str) -> Manifest:
    composite_made, background_made = job.need("composite"), job.need("background")
    spec = rendition_spec(platform)
    analyzer, renderer = backend("layout", "classic"), backend("text", "typeset")

    def compute() -> StageOutput:
        product = blob_image(cfg, composite_made, "product")
        backdrop = _backdrop_for(cfg, job, spec.width, spec.height)
        result = compose_rendition(
            spec, product, backdrop, placement=cfg.composite.placement,
            light_x=composite_made.meta["light_x"], copy=job.row.copy, brand=cfg.brand,
            analyzer=analyzer, renderer=renderer)
        return StageOutput(blobs={"image": _png(result.image),
                                  "thumb": _layer_png(thumbnail(result.image))},
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
                      backend=f"{analyzer.name}+{renderer.name}", compute=compute)


def _backdrop_for(cfg: RunConfig, job: ProductJob, width: int, height: int) -> np.ndarray:
    """A cheap procedural backdrop is regenerated at the frame's size; anything else
    (a neural backdrop) is cover-scaled from the stored master, so no model runs."""
    generator = backend("background", cfg.backends.background, cfg.profile)
    if generator.name == "procedural":
        return generator.generate(background_request(cfg, job, width, height))
    return fit_background(blob_image(cfg, job.need("background"), "background"), width, height)

