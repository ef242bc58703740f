"""Sample product photos that the project renders itself, each with its true mask.

Used by tests and benchmarks of the segment stage (no downloads, no weights). A sample
is a studio-style product shot: a shaded product (surfaces of revolution, boxes,
a shoe) with a label of simple graphic shapes, standing on a plain or gently graded
backdrop with a soft contact and cast shadow (the shadow is backdrop, not product),
rendered at 2x and downsampled for anti-aliased edges, with optional lens blur and
mild sensor noise.

    photo, mask = render_sample("mug", size=768, seed=3, backdrop="graded")

The palettes include the hard cases of e-commerce photos: a white product on a light
backdrop (jar), a dark product on a dark backdrop (shoe), a product whose hue is
close to the backdrop's (tube).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SAMPLE_KINDS: tuple[str, ...] = (
    "bottle", "box", "jar", "mug", "tube", "shoe", "can", "perfume", "dropper",
)
BACKDROPS: tuple[str, ...] = ("plain", "graded")

RGB = tuple[float, float, float]

# kind -> (product colour, accent colour, backdrop colour), sRGB 0..255
PALETTES: dict[str, tuple[RGB, RGB, RGB]] = {
    "bottle": ((38, 104, 66), (236, 226, 200), (226, 221, 212)),
    "box": ((196, 58, 48), (246, 242, 232), (172, 186, 201)),
    "jar": ((244, 243, 238), (201, 168, 92), (221, 221, 218)),  # white on light grey
    "mug": ((212, 160, 42), (250, 248, 240), (236, 230, 219)),
    "tube": ((92, 134, 190), (240, 244, 250), (158, 184, 214)),  # hue close to backdrop
    "shoe": ((44, 40, 43), (232, 229, 221), (84, 85, 91)),  # dark on dark
    "can": ((196, 200, 206), (176, 30, 52), (201, 211, 199)),
    "perfume": ((192, 122, 52), (28, 26, 30), (231, 206, 201)),
    "dropper": ((92, 58, 36), (246, 244, 238), (181, 191, 171)),
}


def render_sample(
    kind: str, *, size: int = 1024, seed: int = 0, backdrop: str = "plain"
) -> tuple[np.ndarray, np.ndarray]:
    """A product photo (RGB uint8, size x size) and its true mask (bool), deterministic."""
    _check_inputs(kind, size, backdrop)
    rng = np.random.default_rng([seed, SAMPLE_KINDS.index(kind), BACKDROPS.index(backdrop)])
    product, accent, back = (_jitter(c, rng) for c in PALETTES[kind])
    # 1. The product layer, drawn at 2x for anti-aliased edges.
    canvas = Canvas(size)
    height = rng.uniform(0.5, 0.62)
    center_x = 0.5 + rng.uniform(-0.06, 0.06)
    base_y = rng.uniform(0.8, 0.86)
    KIND_BUILDERS[kind](canvas, center_x, base_y, height, product, accent, rng)
    # 2. The backdrop, with the product's shadow on it.
    scene = _backdrop(size, back, backdrop, rng)
    scene *= _shadow_factor(canvas.alpha, base_y, rng)[..., None]
    # 3. Product over backdrop, then the camera: lens blur and sensor noise.
    photo = scene * (1.0 - canvas.alpha[..., None]) + canvas.premultiplied
    photo = _camera(photo, rng)
    return photo, canvas.alpha >= 0.5


def write_samples(folder: Path, *, size: int = 1024, seed: int = 0) -> list[Path]:
    """Write `<kind>.png` photos and `<kind>.mask.png` masks; return the photo paths.

    Backdrops alternate plain / graded over the kinds.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for index, kind in enumerate(SAMPLE_KINDS):
        photo, mask = render_sample(kind, size=size, seed=seed, backdrop=BACKDROPS[index % 2])
        photo_path = folder / f"{kind}.png"
        Image.fromarray(photo).save(photo_path)
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f"{kind}.mask.png")
        photos.append(photo_path)
    return photos


def _check_inputs(kind: str, size: int, backdrop: str) -> None:
    if kind not in SAMPLE_KINDS:
        raise ValueError(f"unknown sample kind {kind!r}: use one of {', '.join(SAMPLE_KINDS)}")
    if backdrop not in BACKDROPS:
        raise ValueError(f"unknown backdrop {backdrop!r}: use 'plain' or 'graded'")
    if not 64 <= size <= 4096:
        raise ValueError(f"size {size} is out of range: use 64..4096 pixels")


def _jitter(color: RGB, rng: np.random.Generator) -> np.ndarray:
    """The palette colour, moved a little in brightness and hue (0..1 floats)."""
    rgb = np.asarray(color, dtype=np.float32) / 255.0
    gain = rng.uniform(0.95, 1.04)
    tint = rng.uniform(-0.015, 0.015, size=3)
    return np.clip(rgb * gain + tint, 0.0, 1.0).astype(np.float32)


def _backdrop(size: int, color: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """A seamless studio backdrop: uniform, or with a gentle gradient and vignette."""
    scene = np.empty((size, size, 3), np.float32)
    scene[:] = color
    if style == "plain":
        return scene
    ys = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    slope = rng.uniform(0.05, 0.1) * rng.choice([-1.0, 1.0])
    vertical = 1.0 - slope * ys[:, None]
    cx, cy = rng.uniform(-0.2, 0.2, size=2)
    radius2 = (ys[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2
    vignette = 1.0 - rng.uniform(0.04, 0.08) * radius2 / 2.0
    return np.clip(scene * (vertical * vignette)[..., None], 0.0, 1.0)


def _shadow_factor(alpha: np.ndarray, base_y: float, rng: np.random.Generator) -> np.ndarray:
    """Light left on the backdrop by a soft contact shadow and a cast shadow (0..1)."""
    size = alpha.shape[0]
    small = max(64, size // 4)
    scale = small / size
    footprint = cv2.resize(alpha, (small, small), interpolation=cv2.INTER_AREA)
    # The cast shadow: the silhouette laid on the floor behind the product, sheared.
    squash, shear = rng.uniform(0.12, 0.22), rng.uniform(0.3, 0.8) * rng.choice([-1.0, 1.0])
    base = base_y * small
    lay = np.array([[1.0, -shear * squash, shear * squash * base],
                    [0.0, squash, base * (1.0 - squash)]], np.float32)
    cast = cv2.warpAffine(footprint, lay, (small, small), flags=cv2.INTER_LINEAR)
    cast = cv2.GaussianBlur(cast, (0, 0), 0.02 * small)
    # The contact shadow: a thin dark ellipse under the product's foot.
    contact = _contact_ellipse(alpha, base_y, small, scale)
    darkness = rng.uniform(0.25, 0.4) * cast + rng.uniform(0.4, 0.55) * contact
    factor = 1.0 - np.clip(darkness, 0.0, 0.85)
    return cv2.resize(factor, (size, size), interpolation=cv2.INTER_LINEAR)


def _contact_ellipse(alpha: np.ndarray, base_y: float, small: int, scale: float) -> np.ndarray:
    columns = np.flatnonzero(alpha.max(axis=0) > 0.5)
    x0, x1 = columns[0] * scale, columns[-1] * scale
    contact = np.zeros((small, small), np.float32)
    center = (round((x0 + x1) / 2 * 16), round(base_y * small * 16))
    axes = (round((x1 - x0) * 0.55 * 16), round(0.012 * small * 16))
    cv2.ellipse(contact, center, axes, 0, 0, 360, 1.0, -1, cv2.LINE_AA, 4)
    return cv2.GaussianBlur(contact, (0, 0), 0.012 * small)


def _camera(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A real lens and sensor: sometimes a slight blur, always mild noise; to uint8."""
    size = photo.shape[0]
    if rng.random() < 0.5:
        photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.4, 0.8) * size / 1024)
    luma_noise = rng.normal(0.0, 1.4 / 255, size=photo.shape[:2]).astype(np.float32)
    chroma_noise = rng.normal(0.0, 0.9 / 255, size=photo.shape).astype(np.float32)
    noisy = photo + luma_noise[..., None] + chroma_noise
    return np.clip(noisy * 255.0 + 0.5, 0, 255).astype(np.uint8)



# ----------------------------------------------------------------------------------------
# The product layer: parts drawn at 2x, shaded, composited front to back in paint order
# ----------------------------------------------------------------------------------------

Point = tuple[float, float]
Shading = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
LIGHT = np.array([-0.5, -0.35, 0.79]) / np.linalg.norm([-0.5, -0.35, 0.79])
HALFWAY = (LIGHT + [0, 0, 1]) / np.linalg.norm(LIGHT + [0, 0, 1])
SUPERSAMPLE, SUBPIXEL_BITS = 2, 4


class Canvas:
    """Premultiplied colour and coverage of the product, painted part by part."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.premultiplied = np.zeros((size, size, 3), np.float32)
        self.alpha = np.zeros((size, size), np.float32)
        self.grid = (np.arange(size, dtype=np.float32) + 0.5) / size

    def polygon(self, points: list[Point]) -> np.ndarray:
        return self._coverage(lambda img, fix: cv2.fillPoly(
            img, [fix(points)], 255, cv2.LINE_AA, SUBPIXEL_BITS))

    def ellipse(self, center: Point, axes: Point, thickness: float = -1.0) -> np.ndarray:
        def draw(img: np.ndarray, fix: Callable) -> None:
            (c, a) = fix([center, axes])
            width = -1 if thickness < 0 else max(1, round(thickness * img.shape[0]))
            cv2.ellipse(img, tuple(c), tuple(a), 0, 0, 360, 255, width, cv2.LINE_AA,
                        SUBPIXEL_BITS)
        return self._coverage(draw)

    def paint(self, cover: np.ndarray, color: np.ndarray, shading: Shading,
              gloss: float = 0.0) -> None:
        """Composite one shaded part over what is painted so far (inside its box only)."""
        x, y, w, h = cv2.boundingRect((cover > 0).astype(np.uint8))
        if w == 0:
            return
        rows, cols = slice(y, y + h), slice(x, x + w)
        shade, spec = shading(self.grid[rows, None], self.grid[None, cols])
        part = np.clip(color * shade[..., None] + gloss * spec[..., None], 0.0, 1.0)
        a = cover[rows, cols, None]
        self.premultiplied[rows, cols] = self.premultiplied[rows, cols] * (1 - a) + part * a
        self.alpha[rows, cols] = self.alpha[rows, cols] * (1 - a[..., 0]) + a[..., 0]

    def _coverage(self, draw: Callable) -> np.ndarray:
        big = np.zeros((self.size * SUPERSAMPLE,) * 2, np.uint8)
        scale = big.shape[0] * (1 << SUBPIXEL_BITS)
        draw(big, lambda pts: (np.asarray(pts) * scale).round().astype(np.int32))
        small = cv2.resize(big, (self.size, self.size), interpolation=cv2.INTER_AREA)
        return small.astype(np.float32) / 255.0


def cylinder(center_x: float, radius: Callable[[np.ndarray], np.ndarray],
             ambient: float = 0.3) -> Shading:
    """Lambert + Phong shading of a surface of revolution around a vertical axis."""
    def shade(ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.clip((xs - center_x) / np.maximum(radius(ys), 1e-4), -0.999, 0.999)
        nz = np.sqrt(1.0 - t * t)
        lambert = np.maximum(LIGHT[0] * t + LIGHT[2] * nz, 0.0)
        rim = 0.12 * np.maximum(t, 0.0) ** 6
        spec = np.maximum(HALFWAY[0] * t + HALFWAY[2] * nz, 0.0) ** 60
        return ambient + (1.0 - ambient) * 1.05 * lambert + rim, spec
    return shade


def flat(level: float, top: float, bottom: float, tilt: float = 0.08) -> Shading:
    """A planar face: even light with a gentle vertical falloff."""
    def shade(ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fall = level * (1.0 + tilt / 2 - tilt * (ys - top) / max(bottom - top, 1e-4))
        return fall + 0.0 * xs, np.zeros_like(fall + 0.0 * xs)
    return shade


def pillow(cover: np.ndarray, softness: float = 0.03) -> Shading:
    """Rounded shading of a flat silhouette: its blurred coverage taken as a height field."""
    size = cover.shape[0]
    small = cv2.resize(cover, (size // 4, size // 4), interpolation=cv2.INTER_AREA)
    height = cv2.GaussianBlur(small, (0, 0), softness * size / 4)
    gy, gx = np.gradient(height * (size / 4) * softness * 3)
    normal = np.dstack([-gx, -gy, np.ones_like(gx)])
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    lambert = np.maximum(normal @ LIGHT, 0.0).astype(np.float32)
    spec = (np.maximum(normal @ HALFWAY, 0.0) ** 30).astype(np.float32)
    lambert, spec = (cv2.resize(m, (size, size)) for m in (lambert, spec))

    def shade(ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.clip((ys[:, 0] * size).astype(int), 0, size - 1)
        cols = np.clip((xs[0] * size).astype(int), 0, size - 1)
        box = np.ix_(rows, cols)
        return 0.3 + 0.75 * lambert[box], spec[box]
    return shade


def lathe(canvas: Canvas, cx: float, base: float, h: float,
          profile: list[Point]) -> tuple[np.ndarray, Shading]:
    """Silhouette and shading of a surface of revolution; profile: (height, radius) / h."""
    heights = np.array([p[0] for p in profile]) * h
    radii = np.array([p[1] for p in profile]) * h
    left = [(cx - r, base - y) for y, r in zip(heights, radii, strict=True)]
    right = [(cx + r, base - y) for y, r in zip(heights, radii, strict=True)]
    outline = _rounded(left + right[::-1])
    radius = lambda ys: np.interp(base - ys, heights, radii)  # noqa: E731
    return canvas.polygon(outline), cylinder(cx, radius)


def _rounded(points: list[Point], passes: int = 2) -> list[Point]:
    """Chaikin corner cutting: a polygon with softly rounded corners."""
    pts = np.asarray(points, dtype=np.float64)
    for _ in range(passes):
        nxt = np.roll(pts, -1, axis=0)
        pts = np.stack([0.75 * pts + 0.25 * nxt, 0.25 * pts + 0.75 * nxt], 1).reshape(-1, 2)
    return [tuple(p) for p in pts]


def rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def ink_color(rng: np.random.Generator) -> np.ndarray:
    """A saturated graphic colour for logos and bars on a label."""
    hue = rng.uniform(0, 180)
    hsv = np.array([[[hue, rng.uniform(150, 230), rng.uniform(90, 170)]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255.0


def label(canvas: Canvas, body: np.ndarray, box: tuple[float, float, float, float],
          paper: np.ndarray, shading: Shading, rng: np.random.Generator) -> None:
    """A label on a body: a paper band with a round logo and bars of 'text'."""
    x0, y0, x1, y1 = box
    canvas.paint(canvas.polygon(rect(x0, y0, x1, y1)) * body, paper, shading, gloss=0.15)
    ink = ink_color(rng)
    w, h = x1 - x0, y1 - y0
    cx = x0 + w * rng.uniform(0.42, 0.58)
    logo = canvas.ellipse((cx, y0 + 0.32 * h), (0.12 * min(w, 2 * h),) * 2)
    canvas.paint(logo * body, ink, shading, gloss=0.1)
    for row, length in ((0.62, 0.55), (0.78, 0.35)):
        bar = canvas.polygon(rect(cx - length * w / 2, y0 + row * h,
                                  cx + length * w / 2, y0 + (row + 0.07) * h))
        canvas.paint(bar * body, ink * 0.8, shading)


DARK = np.array([0.11, 0.11, 0.12], np.float32)


# ----------------------------------------------------------------------------------------
# The kinds: each draws one product, standing on `base`, `h` tall, centred on `cx`
# ----------------------------------------------------------------------------------------

def _bottle(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    body, shade = lathe(c, cx, base, h, [(0, .15), (.02, .17), (.6, .17), (.66, .15),
                                         (.72, .1), (.76, .065), (.87, .06)])
    c.paint(body, color, shade, gloss=0.9)
    label(c, body, (cx - .2 * h, base - .5 * h, cx + .2 * h, base - .18 * h), accent, shade, rng)
    cap, cap_shade = lathe(c, cx, base, h, [(.85, .072), (1.0, .072)])
    c.paint(cap, DARK, cap_shade, gloss=0.4)


def _box(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    x0, x1, top, dx, dy = cx - .34 * h, cx + .14 * h, base - .8 * h, .14 * h, -.07 * h
    front = c.polygon(rect(x0, top, x1, base))
    side = c.polygon([(x1, base), (x1 + dx, base + dy), (x1 + dx, top + dy), (x1, top)])
    lid = c.polygon([(x0, top), (x1, top), (x1 + dx, top + dy), (x0 + dx, top + dy)])
    c.paint(side, color, flat(0.62, top, base))
    c.paint(lid, color, flat(1.08, top + dy, top))
    c.paint(front, color, flat(0.92, top, base))
    band = c.polygon([(x1, base - .5 * h), (x1 + dx, base - .5 * h + dy),
                      (x1 + dx, base - .38 * h + dy), (x1, base - .38 * h)])
    c.paint(band, accent, flat(0.62, top, base))
    label(c, front, (x0, base - .62 * h, x1, base - .25 * h), accent, flat(.92, top, base), rng)


def _jar(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    body, shade = lathe(c, cx, base, h, [(0, .36), (.03, .38), (.62, .38), (.69, .345),
                                         (.73, .33)])
    c.paint(body, color, shade, gloss=0.5)
    paper = np.clip(1.0 - 0.3 * (1.0 - ink_color(rng)), 0, 1)
    label(c, body, (cx - .42 * h, base - .5 * h, cx + .42 * h, base - .2 * h), paper, shade, rng)
    lid, lid_shade = lathe(c, cx, base, h, [(.71, .365), (.97, .365), (1.0, .34)])
    c.paint(lid, accent, lid_shade, gloss=1.0)


def _mug(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    side = rng.choice([-1.0, 1.0])
    handle = c.ellipse((cx + side * .34 * h, base - .52 * h), (.17 * h, .25 * h), .05 * h)
    c.paint(handle, color, pillow(handle, 0.006))
    body, shade = lathe(c, cx, base, h, [(0, .3), (.02, .32), (.96, .34), (1.0, .34)])
    c.paint(body, color, shade, gloss=0.7)
    rim = c.ellipse((cx, base - .985 * h), (.335 * h, .04 * h))
    c.paint(rim, color * 0.55, flat(1.0, base - h, base - .95 * h))
    logo = c.ellipse((cx - side * .05 * h, base - .5 * h), (.11 * h, .11 * h))
    c.paint(logo * body, accent, shade, gloss=0.5)


def _tube(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    cap, cap_shade = lathe(c, cx, base, h, [(0, .1), (.13, .1)])
    c.paint(cap, accent, cap_shade, gloss=0.5)
    body, shade = lathe(c, cx, base, h, [(.12, .085), (.17, .13), (.4, .17), (.85, .2),
                                         (.93, .21)])
    c.paint(body, color, shade, gloss=0.6)
    crimp = c.polygon(rect(cx - .215 * h, base - h, cx + .215 * h, base - .91 * h))
    ridges = flat(1.0, base - h, base - .91 * h)
    c.paint(crimp, color, lambda ys, xs: (ridges(ys, xs)[0] - .12 * (np.sin(ys * 900) > 0),
                                          np.zeros_like(ys + xs)))
    label(c, body, (cx - .16 * h, base - .75 * h, cx + .16 * h, base - .4 * h), accent, shade,
          rng)


SHOE = [(.02, 0), (0, .12), (.02, .45), (.06, .62), (.12, .66), (.2, .6), (.3, .55),
        (.38, .62), (.42, .8), (.47, .78), (.55, .6), (.7, .45), (.85, .33), (.95, .25),
        (1.0, .15), (.99, .05), (.95, 0)]


def _shoe(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    length, side = 1.3 * h, rng.choice([-1.0, 1.0])
    at = lambda u, v: (cx + side * (u - .5) * length, base - v * .5 * length)  # noqa: E731
    upper = c.polygon(_rounded([at(u, v) for u, v in SHOE], passes=3))
    c.paint(upper, color, pillow(upper), gloss=0.25)
    sole = upper * c.polygon(rect(cx - length, base - .07 * length, cx + length, base + .1))
    c.paint(sole, accent, flat(0.95, base - .07 * length, base))
    stripe = _rounded([at(.22, .2), at(.5, .12), at(.82, .26), at(.5, .2)], passes=3)
    c.paint(c.polygon(stripe) * upper, accent, pillow(upper), gloss=0.2)
    for k in range(4):
        hole = c.ellipse(at(.47 + .055 * k, .68 - .07 * k), (.008 * length,) * 2)
        c.paint(hole, accent * 0.8, flat(1.0, base - h, base))


def _can(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    body, shade = lathe(c, cx, base, h, [(0, .14), (.02, .17), (.05, .18), (.9, .18),
                                         (.96, .155), (1.0, .15)])
    c.paint(body, color, shade, gloss=1.4)
    band = c.polygon(rect(cx - h, base - .8 * h, cx + h, base - .14 * h)) * body
    c.paint(band, accent, shade, gloss=0.8)
    label(c, body, (cx - .12 * h, base - .65 * h, cx + .12 * h, base - .35 * h),
          np.array([0.97, 0.96, 0.94], np.float32), shade, rng)


def _perfume(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    top = base - .62 * h
    glass = c.polygon(_rounded(rect(cx - .27 * h, top, cx + .27 * h, base)))
    c.paint(glass, color, lambda ys, xs: (0.75 + 0.45 * (cx + .27 * h - xs) / h
                                          + 0.0 * ys, np.zeros_like(xs + ys)))
    facet = c.polygon(_rounded(rect(cx - .2 * h, top + .06 * h, cx + .2 * h, base - .06 * h)))
    c.paint(facet, np.clip(color * 1.12, 0, 1), flat(1.0, top, base))
    shine = c.polygon(rect(cx - .17 * h, top + .08 * h, cx - .13 * h, base - .08 * h))
    c.paint(shine * glass, np.ones(3, np.float32), flat(0.95, top, base))
    label(c, facet, (cx - .1 * h, base - .4 * h, cx + .1 * h, base - .22 * h),
          np.array([0.86, 0.74, 0.45], np.float32), flat(1.0, top, base), rng)
    neck = c.polygon(rect(cx - .05 * h, base - .68 * h, cx + .05 * h, top + .01 * h))
    c.paint(neck, np.array([0.8, 0.68, 0.4], np.float32), flat(0.9, top, base))
    cap, cap_shade = lathe(c, cx, base, h, [(.67, .13), (1.0, .13)])
    c.paint(cap, accent, cap_shade, gloss=0.6)


def _dropper(c: Canvas, cx: float, base: float, h: float, color, accent, rng) -> None:
    body, shade = lathe(c, cx, base, h, [(0, .15), (.02, .16), (.5, .16), (.57, .13),
                                         (.61, .08), (.65, .07)])
    c.paint(body, color, shade, gloss=1.0)
    label(c, body, (cx - .2 * h, base - .42 * h, cx + .2 * h, base - .12 * h), accent, shade,
          rng)
    collar, collar_shade = lathe(c, cx, base, h, [(.63, .085), (.77, .085)])
    c.paint(collar, DARK, collar_shade, gloss=0.5)
    bulb, bulb_shade = lathe(c, cx, base, h, [(.76, .05), (.8, .056), (.93, .056),
                                              (.98, .04), (1.0, .0)])
    c.paint(bulb, accent, bulb_shade, gloss=0.3)


KIND_BUILDERS: dict[str, Callable[..., None]] = {
    "bottle": _bottle, "box": _box, "jar": _jar, "mug": _mug, "tube": _tube, "shoe": _shoe,
    "can": _can, "perfume": _perfume, "dropper": _dropper,
}
