"""Every rendition of every generated sample passes the quality gates (issue: imaging core).

Exact preset size, the product box inside the frame, the text inside the preset's safe
area, no text over the product, WCAG contrast >= 4.5 under every line, no ellipsis; and
the product's colours stay within the ΔE tolerance after compositing.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from adforge.brandkit import BrandKit
from adforge.demo import DEMO_BRAND, DEMO_COPY
from adforge.gates import passes
from adforge.imaging.renditions import compose_rendition, fit_background
from adforge.imaging.retouch import light_of, retouch_product
from adforge.samples import SAMPLE_KINDS, render_sample
from adforge.specs import PRESETS, AdCopy, Placement, rendition_spec
from models.contracts import BackgroundRequest
from models.registry import backend

BRAND = BrandKit.model_validate(DEMO_BRAND)
COPIES = [AdCopy(**{k: DEMO_COPY[kind][k] for k in ("headline", "subline", "cta", "language")})
          for kind in ("bottle", "box", "jar")]  # Korean, English, Chinese


@pytest.fixture(scope="module")
def products() -> dict[str, tuple[np.ndarray, float]]:
    """Each sample kind segmented by the classic segmenter and retouched: (rgba, ΔE)."""
    segmenter = backend("segment", "classic")
    style = BRAND.style("warm")
    light = light_of(backend("background", "procedural").generate(
        BackgroundRequest(width=128, height=128, style=style)))
    out = {}
    for i, kind in enumerate(SAMPLE_KINDS):
        photo, _ = render_sample(kind, size=768, seed=i, backdrop="graded" if i % 2 else "plain")
        retouched = retouch_product(segmenter.segment(photo).rgba, light)
        out[kind] = (retouched.rgba, retouched.delta_e)
    return out


def _render(spec_name: str, product: np.ndarray, copy: AdCopy, style_name: str):
    spec = rendition_spec(spec_name)
    style = BRAND.style(style_name)
    backdrop = backend("background", "procedural").generate(
        BackgroundRequest(width=spec.width, height=spec.height, seed=5, style=style))
    return compose_rendition(spec, product, backdrop, placement=Placement(),
                             light_x=style.light, copy=copy, brand=BRAND,
                             analyzer=backend("layout", "classic"),
                             renderer=backend("text", "typeset"))


@pytest.mark.parametrize("preset", [*PRESETS, "1600x900"])
def test_every_sample_passes_every_gate(products, preset: str) -> None:
    styles = ["studio-light", "studio-dark", "pastel", "ocean", "warm", "forest"]
    for i, (kind, (product, _)) in enumerate(products.items()):
        rendition = _render(preset, product, COPIES[i % 3], styles[i % len(styles)])
        spec = rendition.spec
        assert rendition.image.shape == (spec.height, spec.width, 3)
        failed = {m: v for m, v in rendition.quality.items() if not passes(m, v)}
        assert not failed, f"{kind} on {preset}: {failed}"
        assert all(f.lines for f in rendition.fits), f"{kind}: copy missing from {preset}"


def test_story_keeps_text_out_of_the_app_bands(products) -> None:
    rendition = _render("instagram_story", products["bottle"][0], COPIES[0], "ocean")
    for fit in rendition.fits:
        assert fit.box.y0 >= 0.14 * 1920 and fit.box.y1 <= 0.80 * 1920


def test_product_colours_stay_within_tolerance(products) -> None:
    delta_es = [delta_e for _, delta_e in products.values()]
    assert statistics.median(delta_es) <= 3.0
    assert max(delta_es) <= 3.0


def test_renditions_are_recomposed_never_stretched(products) -> None:
    product = products["box"][0]
    ph, pw = product.shape[:2]
    for name in PRESETS:
        box = _render(name, product, COPIES[1], "studio-light").layers.product_box
        assert abs(box.width / box.height - pw / ph) < 0.02, name


def test_fit_background_covers_and_crops_without_stretching() -> None:
    stripes = np.zeros((100, 100, 3), np.uint8)
    stripes[:, ::10] = 255  # vertical lines every 10 px
    wide = fit_background(stripes, 300, 100)
    assert wide.shape == (100, 300, 3)
    columns = np.nonzero(wide[50, :, 0] > 128)[0]
    assert np.all(np.diff(columns)[np.diff(columns) > 3] >= 25)  # spacing scaled x3 evenly
