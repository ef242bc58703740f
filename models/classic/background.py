"""Procedural studio backdrop: a seamless paper sweep, floor, key light and vignette.

The look of a photographer's seamless paper roll: the paper falls from the top colour to
the bottom colour, bends softly into the floor at `horizon`, is lit by a soft key light at
`light`, darkens towards the corners, and carries a faint seeded grain that also dithers
away the banding a smooth 8-bit gradient would show.

Speed: every smooth term is evaluated on a small grid (long side `FIELD_LONG_SIDE`), in
linear light, then upscaled with cv2; the grain is a precomputed seeded tile. A
1080x1920 backdrop takes a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from adforge.brandkit import StylePreset
from adforge.imaging.color import hex_to_rgb
from models.classic.base import ClassicBackend
from models.contracts import BackgroundRequest

FIELD_LONG_SIDE = 192  # resolution of the smooth field before upscaling
GRAIN_TILE = 128  # side of the seeded grain tile
GRAIN_LEVELS = 1.5  # grain amplitude in 8-bit levels (triangular, so at most ±1.5)
HORIZON_SOFTNESS = 0.035  # blur of the paper's bend (sigma), fraction of the frame height
PROFILE_ROWS = 512  # rows of the 1-D paper profile
KEY_LIGHT_DEPTH = 0.30  # how much darker the paper is far from the key light (linear)
FLOOR_FALLOFF = 0.12  # floor darkening towards the camera (linear)


@dataclass(frozen=True)
class _Jitter:
    """Small seeded variations, so two seeds give two slightly different backdrops."""

    light_dx: float
    light_dy: float
    spread: float
    bend: float


def _jitter_for(seed: int) -> _Jitter:
    rng = np.random.default_rng(seed)
    dx, dy, spread, bend = rng.uniform(-1.0, 1.0, size=4)
    return _Jitter(light_dx=0.03 * dx, light_dy=0.03 * dy,
                   spread=1.0 + 0.08 * spread, bend=0.01 * bend)


def _srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    c = srgb / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0.0, 1.0)
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return (srgb * 255.0).astype(np.float32)


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _field_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, FIELD_LONG_SIDE / max(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def _grid(field_w: int, field_h: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised pixel-centre coordinates (0..1), matching cv2.resize's sampling."""
    x = ((np.arange(field_w, dtype=np.float32) + 0.5) / field_w)[None, :]
    y = ((np.arange(field_h, dtype=np.float32) + 0.5) / field_h)[:, None]
    return x, y


def _paper_profile(style: StylePreset, bend: float) -> np.ndarray:
    """Linear RGB of the unlit paper, top to bottom, on `PROFILE_ROWS` rows.

    The sweep falls from `top` to `bottom` at the horizon, then the floor rises from
    `bottom` to `floor` (and darkens a little towards the camera); the kink at the
    horizon is blurred away, as the paper's bend would.
    """
    top, bottom, floor = (_srgb_to_linear(np.array(hex_to_rgb(c), np.float32))
                          for c in (style.top, style.bottom, style.floor))
    y = (np.arange(PROFILE_ROWS, dtype=np.float32) + 0.5) / PROFILE_ROWS
    horizon = style.horizon + bend
    sweep_t = np.clip(y / horizon, 0.0, 1.0) ** 1.4
    sweep = top + (bottom - top) * sweep_t[:, None]
    depth = np.clip((y - horizon) / max(1e-3, 1.0 - horizon), 0.0, 1.0)
    floor_t = _smoothstep(0.0, 0.45, depth)[:, None]
    ground = (bottom + (floor - bottom) * floor_t) * (1.0 - FLOOR_FALLOFF * depth[:, None] ** 1.5)
    profile = np.where((y < horizon)[:, None], sweep, ground).astype(np.float32)
    sigma = HORIZON_SOFTNESS * PROFILE_ROWS
    return cv2.GaussianBlur(profile[:, None, :], (1, 0), sigmaX=0.1, sigmaY=sigma,
                            borderType=cv2.BORDER_REPLICATE)[:, 0, :]


def _paper_colour(style: StylePreset, y: np.ndarray, bend: float) -> np.ndarray:
    """The paper profile sampled at the field's rows: (h, 1, 3) linear RGB."""
    profile = _paper_profile(style, bend)
    rows = np.clip(y[:, 0] * PROFILE_ROWS - 0.5, 0, PROFILE_ROWS - 1)
    lower = np.floor(rows).astype(np.int64)
    upper = np.minimum(lower + 1, PROFILE_ROWS - 1)
    frac = (rows - lower)[:, None]
    return (profile[lower] * (1.0 - frac) + profile[upper] * frac)[:, None, :]


def _key_light(style: StylePreset, x: np.ndarray, y: np.ndarray, aspect: float,
               jitter: _Jitter) -> np.ndarray:
    """Gain 1 - depth .. 1: a broad glow on the wall and a pool of light on the floor."""
    lx = style.light + jitter.light_dx
    ax = aspect / max(1.0, aspect)  # keep the glow round for wide frames
    ay = 1.0 / max(1.0, 1.0 / aspect)
    wall_dist = ((x - lx) * ax) ** 2 + ((y - 0.30 - jitter.light_dy) * ay) ** 2
    wall = np.exp(-wall_dist / (2 * (0.42 * jitter.spread) ** 2))
    pool_y = style.horizon + 0.45 * (1.0 - style.horizon)
    pool_dist = ((x - lx) * ax) ** 2 + ((y - pool_y) * ay / 0.45) ** 2
    pool = np.exp(-pool_dist / (2 * (0.40 * jitter.spread) ** 2))
    soft = 2.0 * HORIZON_SOFTNESS
    floor_t = _smoothstep(style.horizon - soft, style.horizon + soft, y)
    lit = wall + (pool - wall) * floor_t
    return 1.0 - KEY_LIGHT_DEPTH * (1.0 - lit)


def _vignette(style: StylePreset, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gain 1 .. 1 - vignette: corners darker, centre untouched."""
    r2 = ((x - 0.5) * 2.0) ** 2 + ((y - 0.48) * 2.0) ** 2
    return 1.0 - style.vignette * _smoothstep(0.35, 2.1, r2) ** 1.2


def smooth_field(style: StylePreset, width: int, height: int, seed: int) -> np.ndarray:
    """The backdrop without grain, float32 sRGB 0..255, at low resolution."""
    field_w, field_h = _field_size(width, height)
    x, y = _grid(field_w, field_h)
    jitter = _jitter_for(seed)
    paper = _paper_colour(style, y, jitter.bend)  # (h, 1, 3)
    gain = _key_light(style, x, y, width / height, jitter) * _vignette(style, x, y)
    linear = paper * gain[..., None]
    srgb = _linear_to_srgb(linear)
    return np.ascontiguousarray(srgb, dtype=np.float32)


def grain_tile(seed: int) -> np.ndarray:
    """A seeded tile of triangular noise, float32, in 8-bit levels."""
    rng = np.random.default_rng(seed ^ 0x5EED)
    u = rng.random((2, GRAIN_TILE, GRAIN_TILE, 3), dtype=np.float32)
    return ((u[0] - u[1]) * GRAIN_LEVELS).astype(np.float32)


def _add_grain(field: np.ndarray, tile: np.ndarray) -> np.ndarray:
    """field + tiled grain, rounded and saturated to uint8 in one pass per tile row."""
    height, width = field.shape[:2]
    out = np.empty((height, width, 3), np.uint8)
    reps_x = -(-width // GRAIN_TILE)
    row_of_tiles = np.tile(tile, (1, reps_x, 1))[:, :width]
    for y0 in range(0, height, GRAIN_TILE):
        y1 = min(height, y0 + GRAIN_TILE)
        grain = row_of_tiles[: y1 - y0]
        out[y0:y1] = cv2.add(field[y0:y1], grain, dtype=cv2.CV_8U)
    return out


class ProceduralBackground(ClassicBackend):
    """The classic `BackgroundGenerator`: a seamless paper studio backdrop, no weights."""

    name = "procedural"
    restyles = False  # no image-to-image: a reference image cannot restyle it

    def generation_size(self, request: BackgroundRequest) -> tuple[int, int]:
        """Made at the canvas's own size: nothing is cropped or scaled."""
        return request.width, request.height

    def generate(self, request: BackgroundRequest) -> np.ndarray:
        """An RGB uint8 backdrop of exactly request.height x request.width."""
        width, height = request.width, request.height
        field = smooth_field(request.style, width, height, request.seed)
        full = cv2.resize(field, (width, height), interpolation=cv2.INTER_CUBIC)
        return _add_grain(full, grain_tile(request.seed))
