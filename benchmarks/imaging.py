"""Imaging benchmark: medians of compositing + retouch, and of the whole classic chain.

    python benchmarks/imaging.py [--repeat 7] [--json]

- composite_retouch_ms: retouch one 1024x1024 product's cutout toward a backdrop, place it
  and compose the layers (shadow, feathered edge) on a 1024x1024 background.
- classic_chain_ms: one 1024x1024 product photo through the classic chain: segment, then
  all six platform renditions (background, placement, layers, layout, type).
Numbers, not asserts: these machines are shared; compare medians from one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np

from adforge.brandkit import default_brand_kit
from adforge.imaging.composite import compose_layers, light_of, place_product, retouch_product
from adforge.imaging.renditions import compose_rendition
from adforge.samples import render_sample
from adforge.specs import PRESETS, AdCopy, Placement
from models.contracts import BackgroundRequest
from models.registry import backend

COPY = AdCopy(headline="하루를 채우는 맑은 한 모금", subline="750ml stainless, cold for 24 h",
              cta="Shop now", language="ko")


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: font caches, lookup tables
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def composite_retouch(cutout: np.ndarray, backdrop: np.ndarray) -> None:
    retouched = retouch_product(cutout, light_of(backdrop))
    h, w = retouched.rgba.shape[:2]
    box = place_product((w, h), (backdrop.shape[1], backdrop.shape[0]), Placement())
    compose_layers(retouched.rgba, backdrop, box).flatten()


def classic_chain(photo: np.ndarray) -> None:
    brand = default_brand_kit()
    style = brand.style(None)
    cut = backend("segment", "classic").segment(photo)
    generator = backend("background", "procedural")
    retouched = retouch_product(cut.rgba, light_of(generator.generate(
        BackgroundRequest(width=256, height=256, style=style))))
    for spec in PRESETS.values():
        backdrop = generator.generate(
            BackgroundRequest(width=spec.width, height=spec.height, seed=1, style=style))
        compose_rendition(spec, retouched.rgba, backdrop, placement=Placement(),
                          light_x=style.light, copy=COPY, brand=brand,
                          analyzer=backend("layout", "classic"),
                          renderer=backend("text", "typeset"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    photo, _ = render_sample("bottle", size=1024, seed=3)
    cutout = backend("segment", "classic").segment(photo).rgba
    backdrop = backend("background", "procedural").generate(
        BackgroundRequest(width=1024, height=1024, style=default_brand_kit().style(None)))
    results = {
        "composite_retouch_ms": round(median_ms(lambda: composite_retouch(cutout, backdrop),
                                                args.repeat), 1),
        "classic_chain_ms": round(median_ms(lambda: classic_chain(photo), args.repeat), 1),
    }
    if args.json:
        print(json.dumps(results))
        return
    print(f"{'measure':<24}{'median ms':>12}   target")
    print(f"{'composite_retouch_ms':<24}{results['composite_retouch_ms']:>12.1f}   <= 130")
    print(f"{'classic_chain_ms':<24}{results['classic_chain_ms']:>12.1f}   <= 1000")


if __name__ == "__main__":
    main()
