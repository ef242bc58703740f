"""The tiny profile end to end through the campaign flow: every stage on a tiny random
model, each model loaded once per batch whatever its size, fallbacks recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from PIL import Image

from adforge.brief import write_brief
from adforge.demo import DEMO_BRAND, DEMO_COPY
from adforge.samples import render_sample

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
KINDS = list(DEMO_COPY)


@pytest.fixture()
def tiny_env(adforge_env, monkeypatch, tiny_root, tiny_birefnet, tiny_flux, tiny_qwen2vl,
             tiny_qwen_image_edit):
    from models import runtime

    monkeypatch.setenv("ADFORGE_PROFILE", "tiny")
    monkeypatch.setenv("ADFORGE_MODELS__TINY_ROOT", str(tiny_root))
    monkeypatch.setenv("ADFORGE_PLATFORMS", '["instagram_post"]')
    runtime.release_all()  # a batch starts as a fresh worker would
    yield adforge_env
    runtime.release_all()


def write_campaign(folder: Path, products: int) -> tuple[Path, Path]:
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(products):
        kind = KINDS[index % len(KINDS)]
        rgb, _ = render_sample(kind, size=256, seed=index)
        Image.fromarray(rgb).save(folder / "photos" / f"{index}.png")
        rows.append({**DEMO_COPY[kind], "sku": f"TINY-{index}", "image": f"photos/{index}.png"})
    write_brief(rows, folder / "brief.csv")
    (folder / "brand.yaml").write_text(yaml.safe_dump(DEMO_BRAND, allow_unicode=True),
                                       encoding="utf-8")
    return folder / "brief.csv", folder / "brand.yaml"


def loads_by_model(env: Path, run_id: str) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select model, count(*) from model_events where "
                                    "run_id = :run and action = 'load' group by model"),
                            {"run": run_id}).all()
    return {Path(model).name: count for model, count in rows}


@pytest.mark.parametrize("products", [2, 6])
def test_each_model_loads_once_per_batch(tiny_env, products):
    from flows.brand_content import brand_content

    brief, brand = write_campaign(tiny_env / f"in-{products}", products)
    result = brand_content(brief=str(brief), brand=str(brand))
    assert result["status"] == "completed", result.get("failed")
    loads = loads_by_model(tiny_env, result["run_id"])
    assert loads == {"tiny-birefnet": 1, "tiny-flux": 1, "tiny-qwen2vl": 1,
                     "tiny-qwen-image-edit-2509": 1}
    run_dir = Path(result["out_dir"])
    for index in range(products):
        with Image.open(run_dir / f"TINY-{index}" / "instagram_post.png") as image:
            assert image.size == (1080, 1080)
