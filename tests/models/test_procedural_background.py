"""The procedural studio backdrop: exact sizes, seeds, smoothness, and a floor."""

from __future__ import annotations

import numpy as np
import pytest

from adforge.brandkit import BUILTIN_STYLES, StylePreset
from models.classic.background import ProceduralBackground
from models.contracts import BackgroundGenerator, BackgroundRequest


def _generate(width: int, height: int, seed: int = 0, style: str = "studio-light") -> np.ndarray:
    request = BackgroundRequest(width=width, height=height, seed=seed,
                                style=BUILTIN_STYLES[style])
    return ProceduralBackground().generate(request)


def _row_means(image: np.ndarray) -> np.ndarray:
    """Mean brightness of each row over the central third of the width."""
    width = image.shape[1]
    strip = image[:, width // 3: 2 * width // 3].astype(np.float64)
    return strip.mean(axis=(1, 2))


def test_is_a_background_generator() -> None:
    backend = ProceduralBackground()
    assert isinstance(backend, BackgroundGenerator)
    assert backend.name == "procedural"
    assert not backend.restyles  # no image-to-image
    assert backend.generation_size(BackgroundRequest(  # the canvas's own size
        width=1200, height=600, style=BUILTIN_STYLES["ocean"])) == (1200, 600)


@pytest.mark.parametrize("width,height", [
    (16, 16), (17, 31), (31, 17), (1081, 607), (607, 1081), (1080, 1920), (4096, 16),
    (16, 4100), (4097, 33),
])
def test_exact_size_for_any_aspect(width: int, height: int) -> None:
    image = _generate(width, height)
    assert image.shape == (height, width, 3)
    assert image.dtype == np.uint8


def test_same_seed_same_backdrop() -> None:
    assert np.array_equal(_generate(301, 457, seed=7), _generate(301, 457, seed=7))


def test_different_seeds_differ_slightly() -> None:
    a = _generate(640, 480, seed=1).astype(np.int16)
    b = _generate(640, 480, seed=2).astype(np.int16)
    difference = np.abs(a - b)
    assert difference.mean() > 0.3  # not the same picture
    assert difference.mean() < 6.0  # but the same style: a small variation
    assert np.abs(a.mean(axis=(0, 1)) - b.mean(axis=(0, 1))).max() < 4.0


@pytest.mark.parametrize("style", sorted(BUILTIN_STYLES))
def test_no_banding(style: str) -> None:
    image = _generate(1080, 1920, seed=3, style=style)
    steps = np.abs(np.diff(_row_means(image)))
    assert steps.max() < 0.5, "row-to-row jumps show bands (or a hard horizon)"
    patch = image[400:464, 500:564, 1]
    assert len(np.unique(patch)) >= 4, "a smooth area should be dithered, not flat"
    column = image[200:1800, 540, 1]
    equal_neighbours = float(np.mean(column[1:] == column[:-1]))
    assert equal_neighbours < 0.6, "long runs of one level are bands waiting to be seen"


def test_grain_is_fine() -> None:
    image = _generate(512, 512, seed=4).astype(np.float32)
    patch = image[100:164, 200:264]
    residual = patch - patch.mean(axis=(0, 1))
    assert np.abs(residual).max() <= 4.0  # grain of about ±1-2 levels over a slow gradient


def test_floor_differs_from_the_sweep() -> None:
    style = BUILTIN_STYLES["studio-light"]
    image = _generate(800, 1000, style="studio-light").astype(np.float32)
    horizon = round(style.horizon * 1000)
    wall = image[horizon - 250: horizon - 150, 300:500].mean(axis=(0, 1))
    floor = image[horizon + 100: horizon + 200, 300:500].mean(axis=(0, 1))
    assert np.abs(wall - floor).max() > 8.0


def test_key_light_side_is_brighter() -> None:
    left_lit = StylePreset(top="#C0C0C0", bottom="#B0B0B0", floor="#B8B8B8",
                           vignette=0.0, light=0.2)
    request = BackgroundRequest(width=600, height=400, seed=0, style=left_lit)
    image = ProceduralBackground().generate(request).astype(np.float32)
    assert image[:200, :150].mean() > image[:200, -150:].mean() + 2.0


def test_vignette_darkens_corners_not_the_centre() -> None:
    base = BUILTIN_STYLES["studio-dark"]
    images = [
        ProceduralBackground().generate(BackgroundRequest(
            width=600, height=600, style=base.model_copy(update={"vignette": strength})
        )).astype(np.float32)
        for strength in (0.0, 0.5)
    ]
    plain, vignetted = images
    assert vignetted[:40, -40:].mean() < plain[:40, -40:].mean() - 3.0
    assert abs(vignetted[270:330, 270:330].mean() - plain[270:330, 270:330].mean()) < 1.0
