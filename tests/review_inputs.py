"""Campaign inputs for the review-queue tests: a studio photo, and a photo whose cutout
the classic segmenter is unsure of (the product among clutter at the frame's edges, as
in a café scene: the backdrop model no longer explains the border)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from adforge.brief import write_brief
from adforge.demo import DEMO_COPY
from adforge.samples import render_sample
from tests.campaign_inputs import write_campaign

CLUTTERED_SKU = DEMO_COPY["mug"]["sku"]
CLEAN_SKU = DEMO_COPY["bottle"]["sku"]


def cluttered_photo(size: int = 384, seed: int = 1, objects: int = 8) -> np.ndarray:
    """A mug with `objects` coloured shapes cut by the frame's edges around it; with 8 the
    classic segmenter's confidence is near 0 but it still finds a (holed) cutout."""
    photo, mask = render_sample("mug", size=size, seed=seed)
    rng = np.random.default_rng(seed)
    scene = photo.copy()
    for _ in range(objects):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        along = int(rng.integers(0, size))
        x, y = [(along, 0), (along, size - 1), (0, along), (size - 1, along)][
            int(rng.integers(0, 4))]
        radius = int(rng.integers(size // 12, size // 6))
        if rng.random() < 0.5:
            cv2.circle(scene, (x, y), radius, color, -1)
        else:
            cv2.rectangle(scene, (x - radius, y - radius), (x + radius, y + radius), color, -1)
    scene[mask.astype(bool)] = photo[mask.astype(bool)]
    return scene


def write_review_campaign(folder: Path) -> tuple[Path, Path]:
    """A brief of two products: a clean bottle (passes every gate) and the cluttered
    mug (its unsure cutout holds every canvas for review); the demo brand kit."""
    brief, brand = write_campaign(folder, ("bottle",), size=384, backdrops=("plain",))
    Image.fromarray(cluttered_photo()).save(folder / "photos" / "mug.png")
    rows = [{**DEMO_COPY["bottle"], "image": "photos/bottle.png"},
            {**DEMO_COPY["mug"], "image": "photos/mug.png"}]
    write_brief(rows, brief)
    return brief, brand
