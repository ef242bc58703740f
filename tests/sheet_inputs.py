"""Synthetic finished products for the contact-sheet tests: each canvas's text manifest
points at a thumbnail stored in a real local asset store, as the text stage leaves it, so
the sheets are built exactly as publish builds them (thumbnails read back per page)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from adforge.brandkit import BrandKit
from adforge.brief import BriefRow
from adforge.db import repository as repo
from adforge.demo import DEMO_BRAND
from adforge.gates import Attempt, GateRecord, GateResult
from adforge.imageio import encode_png
from adforge.imaging.contact_sheet import CELL
from adforge.profiles import profile_named
from adforge.settings import ImageLimits, S3Settings
from adforge.specs import AdCopy
from adforge.stagecache import Manifest, RunConfig, database, store
from adforge.stages.job import CanvasJob, ProductJob
from adforge.storage import sha256_bytes

SIZES = {"instagram_post": (1080, 1080), "instagram_story": (1080, 1920),
         "instagram_portrait": (1080, 1350), "blog_header": (1200, 600),
         "blog_thumbnail": (600, 400), "twitter_card": (1200, 675)}
SHADES = 7  # distinct thumbnails per platform: stored once each, read once per cell
HELD = GateRecord(attempts=[Attempt(number=1, layout="l", text="t", results=[
    GateResult(gate="min_contrast", value=2.1, threshold=4.5, passed=False)])], kept=0)


def sheet_config(folder: Path, page_size: int = 40, store_spec: str | None = None,
                 s3: S3Settings | None = None) -> RunConfig:
    """A run whose store is a folder under `folder` (or `store_spec`), whose tracking
    database is SQLite there, `page_size` products a page."""
    return RunConfig(run_id="run-sheets", db_url=f"sqlite:///{folder / 'adforge.db'}",
                     store=store_spec or str(folder / "assets"), s3=s3 or S3Settings(),
                     out_dir=folder / "outputs", profile="classic",
                     backends=profile_named("classic").backends,
                     brand=BrandKit.model_validate(DEMO_BRAND), home=folder,
                     images=ImageLimits(sheet_page_size=page_size))


def with_page_size(cfg: RunConfig, page_size: int) -> RunConfig:
    return cfg.model_copy(update={"images": ImageLimits(sheet_page_size=page_size)})


def record_products(cfg: RunConfig, jobs: list[ProductJob]) -> None:
    """The run's rows and its products' (each done), as the flow leaves them."""
    db = database(cfg.db_url)
    repo.start_run(db, run_id=cfg.run_id, brief="brief.csv", brief_sha256="s",
                   brand="Hanbit", profile="classic")
    for job in jobs:
        repo.upsert_product(db, run_id=cfg.run_id, sku=job.sku, name="", source_uri="p.png")
        repo.set_product_status(db, cfg.run_id, job.sku, "done")


def thumb(platform: str, shade: int) -> np.ndarray:
    """A flat thumbnail of the platform's aspect, as `contact_sheet.thumbnail` sizes it."""
    width, height = SIZES[platform]
    scale = CELL / max(width, height)
    value = 30 + shade * 190 // (SHADES - 1)
    return np.full((round(height * scale), round(width * scale), 3), value, np.uint8)


def _stored_thumbs(cfg: RunConfig) -> dict[tuple[str, int], str]:
    assets, keys = store(cfg), {}
    for platform in SIZES:
        for shade in range(SHADES):
            data = encode_png(thumb(platform, shade), level=1)
            key = f"text/blobs/{sha256_bytes(data)[:2]}/{sha256_bytes(data)}.png"
            assets.put_bytes(key, data, "image/png")
            keys[(platform, shade)] = key
    return keys


def synthetic_jobs(cfg: RunConfig, count: int, held_every: int = 0) -> list[ProductJob]:
    """`count` finished products on every platform of `SIZES`; with `held_every` n, every
    n-th product's story canvas waits for review."""
    keys = _stored_thumbs(cfg)
    copy = AdCopy(headline="Sale")
    jobs = []
    for i in range(count):
        row = BriefRow(row=i + 2, sku=f"SKU-{i:05d}", image=Path("p.png"), copy=copy, seed=i)
        canvases = {}
        for platform, (width, height) in SIZES.items():
            text = Manifest(stage="text", key=f"text/{i}/{platform}.json", backend="typeset",
                            blobs={"thumb": keys[(platform, i % SHADES)]},
                            meta={"width": width, "height": height, "backends": {}})
            held = held_every and i % held_every == 0 and platform == "instagram_story"
            canvases[platform] = CanvasJob(platform=platform, text=text,
                                           gate=HELD if held else None)
        jobs.append(ProductJob(row=row, canvases=canvases))
    return jobs


def own_peak_rss_kb() -> int:
    """This process's own peak resident size (VmHWM of its memory map). Not getrusage's
    ru_maxrss: Linux carries that over an exec from the parent's memory (a child started
    by a 1 GB pytest process would report 1 GB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: a Linux /proc is needed")


def build_sheets(folder: Path, count: int, page_size: int) -> None:
    """A child process's work (see `test_sheet_memory`): every page of both sheets of
    `count` products; prints the pages written and the process's peak RSS in kB."""
    import json

    from adforge.stages import publish

    cfg = sheet_config(folder, page_size)
    jobs = synthetic_jobs(cfg, count, held_every=10)
    sheets = publish.write_contact_sheets(cfg, jobs, list(SIZES))
    review = publish.write_review_sheets(cfg, jobs)
    peak_kb = own_peak_rss_kb()
    print(json.dumps({"sheets": [str(p) for p in sheets], "review": [str(p) for p in review],
                      "peak_rss_kb": peak_kb}))


if __name__ == "__main__":
    build_sheets(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))

