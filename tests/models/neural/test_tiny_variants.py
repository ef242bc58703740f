"""Variants on the tiny profile: three backdrop variants and an A/B copy test drafted at
FLUX's fewest steps with typesetting, the best kept by the recorded score, the final at
full quality and exported; each model still loads once for the whole run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from adforge_app.cli import app
from tests.models.neural.test_tiny_profile_flow import (
    loads_by_model,
    rendition_rows,
    write_tiny_campaign,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def _with_variants(brief: Path) -> None:
    """The product's row with three backdrop variants, and a second copy variant `B`."""
    (row,) = list(csv.DictReader(brief.open(encoding="utf-8")))
    rows = [row | {"variants": "3", "variant": ""},
            row | {"variants": "", "variant": "B", "headline": "Second copy"}]
    with brief.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _assets(env: Path, stage: str) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select params from assets where stage = :stage"),
                            {"stage": stage}).all()
    return [json.loads(p) if isinstance(p, str) else p for (p,) in rows]


def test_tiny_drafts_run_at_the_fewest_steps_and_the_kept_variants_are_final(tiny_env):
    from flows.brand_content import brand_content

    brief, brand = write_tiny_campaign(tiny_env / "in-variants", 1)
    _with_variants(brief)
    result = brand_content(brief=str(brief), brand=str(brand), platforms=["blog_header"])

    assert result["status"] == "completed", result.get("failed")
    # 1. The best of the three backdrop variants and copy B kept, by the recorded score,
    #    delivered with their text by the edit model (or its fallback, with the reason)
    renditions = rendition_rows(tiny_env, result["run_id"])
    keys = sorted(key for key, _, _ in renditions)
    assert len(keys) == 2 and keys[0].startswith("TINY-0/B-") and keys[1].startswith("TINY-0/v")
    assert keys[1] == _best_backdrop_variant(tiny_env, result["run_id"])
    # 2. Drafts 512 px wide for the instagram_post preview, FLUX at one step (three
    #    backdrops: copy B has v1's seed and style, so it shares v1's stored backdrop);
    #    the finals at the model's own steps (None: its default), at the canvas's size
    backdrops = _assets(tiny_env, "background")
    drafts = [p for p in backdrops if p["steps"] == 1]
    assert {(p["width"], p["height"]) for p in drafts} == {(512, 512)} and len(drafts) == 3
    finals = [p for p in backdrops if p["steps"] is None]
    assert {(p["width"], p["height"]) for p in finals} == {(1200, 600)}
    assert len(finals) == (1 if keys[1].startswith("TINY-0/v1-") else 2)
    for key, platform, backends in renditions:
        assert platform == "blog_header"
        assert backends["text"]["backend"] in ("edit", "typeset")
        assert (Path(result["out_dir"]) / key / "blog_header.jpg").is_file()
    # 3. The export lists exactly them
    exported = CliRunner().invoke(app, ["export", result["run_id"], "--format", "json"])
    assert exported.exit_code == 0, exported.output
    assert sorted(f"{r['sku']}/{r['variant']}" for r in json.loads(exported.output)["rows"]) \
        == keys
    # 4. Drafts and final share each model's one load (the drafts' steps are per request)
    assert loads_by_model(tiny_env, result["run_id"]) == {
        "tiny-birefnet": 1, "tiny-flux": 1, "tiny-qwen2vl": 1,
        "tiny-qwen-image-edit-2509": 1}


def _best_backdrop_variant(env: Path, run_id: str) -> str:
    """The unlabelled copy's best draft by the recorded score (ties: the earlier id)."""
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select sku, value from quality where run_id = :run and "
                                    "subject = 'draft' and metric = 'score'"),
                            {"run": run_id}).all()
    return min(((key, value) for key, value in rows if "/v" in key),
               key=lambda item: (-item[1], item[0]))[0]
