"""Campaign inputs for the end-to-end tests: sample photos, a brief and a brand kit."""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image

from adforge.brief import write_brief
from adforge.demo import DEMO_BRAND, DEMO_COPY
from adforge.samples import render_sample


def write_campaign(folder: Path, kinds: tuple[str, ...], *, size: int,
                   backdrops: tuple[str, ...] = ("plain", "graded"),
                   sku_prefix: str | None = None) -> tuple[Path, Path]:
    """One sample photo per kind (`size` pixels, seeded by its index, backdrops taken in
    turn) under `folder/photos`, a brief with one row of demo copy per kind (relative
    image paths) and the demo brand kit; the brief's and the brand kit's paths.

    sku_prefix: SKUs `{prefix}-{index}` instead of the demo's own (for tests that name
    the products by position)."""
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    rows = []
    for i, kind in enumerate(kinds):
        rgb, _ = render_sample(kind, size=size, seed=i, backdrop=backdrops[i % len(backdrops)])
        Image.fromarray(rgb).save(folder / "photos" / f"{kind}.png")
        row = {**DEMO_COPY[kind], "image": f"photos/{kind}.png"}
        if sku_prefix is not None:
            row["sku"] = f"{sku_prefix}-{i}"
        rows.append(row)
    brief = folder / "brief.csv"
    write_brief(rows, brief)
    brand = folder / "brand.yaml"
    brand.write_text(yaml.safe_dump(DEMO_BRAND, allow_unicode=True), encoding="utf-8")
    return brief, brand
