"""Variants benchmark: what a draft costs per variant against the final pass per product.

    python -m benchmarks.variants [--products 6] [--variants 3] [--repeats 3] [--json]

On the `classic` profile, the same task bodies the campaign flow runs (`task.fn`, two
products in flight, as `benchmarks/pipeline.py`'s loop side), over a generated brief whose
every product has `--variants` backdrop variants in turn of the demo kit's styles:

1. the draft pass: each product cut out once, then one 512-px canvas per variant at the
   preview platform through background, composite, layout and text, and the scores;
2. the final pass: the kept variant of each product (auto selection, keep 1) at every
   default platform, through every stage (its cutout a cache hit).

`ratio` = the final's seconds per product / the draft's seconds per variant, from the
same run; each repeat runs in a fresh store, and medians are reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from adforge.brandkit import load_brand_kit
from adforge.brief import load_brief_lenient
from adforge.settings import Settings
from adforge.stages.drafts import draft_jobs, lead_variants, score_drafts, with_shared_cutouts
from adforge.stages.job import ProductJob
from adforge.variants import auto_selection
from benchmarks.pipeline import point_state_at, write_brief_of
from flows.brand_content import DEFAULT_PREVIEW, open_run
from flows.stage_runs import ALL_STAGES
from flows.variants import DRAFT_STAGES, SEGMENT

WORKERS = 2


def write_variant_brief(products: int, variants: int, folder: Path) -> tuple[Path, Path]:
    brief, brand = write_brief_of(products, folder)
    table = pd.read_csv(brief)
    table["variants"] = variants
    table["styles"] = "ocean|studio-light|warm"
    table.to_csv(brief, index=False)
    return brief, brand


def over(stages: tuple[tuple[str, Any], ...], cfg: Any, jobs: list[ProductJob]
         ) -> list[ProductJob]:
    """Each stage's task body over every job, two in flight, stage-major."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for _, stage in stages:
            jobs = [job for (job,) in pool.map(lambda j, s=stage: s.fn(cfg, [j]), jobs)
                    if isinstance(job, ProductJob)]
    return jobs


def time_passes(brief: Path, brand: Path) -> dict[str, float]:
    settings = Settings()
    kit = load_brand_kit(brand, cache_dir=settings.home / "cache" / "inputs")
    parsed, _ = load_brief_lenient(brief, brand_styles=kit.style_names())
    cfg = open_run(settings, kit, parsed, str(brief))
    jobs = [ProductJob.for_platforms(row, settings.platforms) for row in parsed.rows]
    draft_cfg = cfg.model_copy(update={"draft": True})
    # 1. The draft pass
    start = time.perf_counter()
    cut = with_shared_cutouts(over(SEGMENT, draft_cfg, lead_variants(jobs)), jobs)
    drafts = over(DRAFT_STAGES, draft_cfg, draft_jobs(cut, DEFAULT_PREVIEW))
    scores = score_drafts(draft_cfg, drafts)
    draft_s = time.perf_counter() - start
    # 2. The final pass over the kept variants
    kept = auto_selection(scores, keep=1).keys()
    start = time.perf_counter()
    finals = over(ALL_STAGES, cfg, [job for job in cut if job.sku in kept])
    final_s = time.perf_counter() - start
    per_variant, per_product = draft_s / len(drafts), final_s / len(finals)
    return {"draft_s_per_variant": per_variant, "final_s_per_product": per_product,
            "ratio": per_product / per_variant}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=6)
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="adforge-variants-") as tmp:
        root = Path(tmp)
        brief, brand = write_variant_brief(args.products, args.variants, root / "inputs")
        for repeat in range(args.repeats):
            point_state_at(root / f"run-{repeat}")
            runs.append(time_passes(brief, brand))
    results: dict[str, Any] = {key: round(statistics.median(run[key] for run in runs), 3)
                               for key in runs[0]}
    results |= {"products": args.products, "variants": args.variants,
                "ratio_per_repeat": [round(run["ratio"], 2) for run in runs]}
    if args.json:
        print(json.dumps(results))
        return
    print(f"{args.products} products x {args.variants} variants, classic profile, "
          f"{WORKERS} in flight (medians of {args.repeats})")
    for key, value in results.items():
        print(f"  {key:<24}{value}")


if __name__ == "__main__":
    sys.exit(main())
