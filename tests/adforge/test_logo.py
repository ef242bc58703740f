"""The brand logo: placed in a free corner, never over the product or the copy, readable."""

from __future__ import annotations

import numpy as np

from adforge.imaging.logo import logo_box, paste_logo
from adforge.specs import PixelBox

FRAME = PixelBox(0, 0, 1080, 1080)
SAFE = PixelBox(54, 54, 1026, 1026)


def test_logo_takes_the_first_free_corner_and_avoids_everything() -> None:
    headline = PixelBox(100, 60, 980, 200)  # blocks both top corners
    product = PixelBox(400, 500, 700, 1000)
    box = logo_box((40, 200), FRAME, SAFE, [headline, product])
    assert box is not None
    assert box.x0 == SAFE.x0 and box.y1 == SAFE.y1  # bottom-left
    assert box.intersection(headline) == 0 and box.intersection(product) == 0
    assert abs(box.width / box.height - 200 / 40) < 0.1


def test_no_logo_when_every_corner_is_taken() -> None:
    assert logo_box((40, 200), FRAME, SAFE, [SAFE]) is None


def test_dark_logo_on_dark_ground_is_reversed_to_white() -> None:
    logo = np.zeros((20, 100, 4), np.uint8)
    logo[..., :3] = (20, 30, 60)
    logo[..., 3] = 255
    dark = np.full((200, 200, 3), 15, np.uint8)
    light = np.full((200, 200, 3), 235, np.uint8)
    box = PixelBox(10, 10, 110, 30)
    assert paste_logo(dark, logo, box)[20, 60].tolist() == [255, 255, 255]
    assert paste_logo(light, logo, box)[20, 60].tolist() == [20, 30, 60]
