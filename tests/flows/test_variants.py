"""Variants end to end on the classic profile, under a real Prefect harness: drafts of
every variant, the automatic selection by the recorded score, the final pass over the
kept variants only, and the cutout made once per product."""

from __future__ import annotations

import csv
import json
import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from adforge.variants import VariantScore, auto_selection
from adforge_app.cli import app
from tests.campaign_inputs import write_campaign
from tests.conftest import TEST_OUTPUT
from tests.task_runs import paused_flow_run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PLATFORMS = ["instagram_post", "blog_header"]
BOTTLE, MUG = "HB-BOTTLE-01", "HB-MUG-04"


def write_variant_campaign(folder: Path, size: int = 320) -> tuple[Path, Path]:
    """A bottle with three backdrop variants in two styles, and a mug with an A/B copy
    test (two rows of one SKU)."""
    brief, brand = write_campaign(folder, ("bottle", "mug"), size=size)
    bottle, mug = list(csv.DictReader(brief.open(encoding="utf-8")))
    rows = [bottle | {"variants": "3", "styles": "ocean|studio-light", "variant": ""},
            mug | {"variants": "", "styles": "", "variant": "A"},
            mug | {"variants": "", "styles": "", "variant": "B",
                   "headline": "Slow mornings, warm hands"}]
    with brief.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return brief, brand


def _rows(env: Path, sql: str) -> list[tuple]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def _scores(env: Path, run_id: str) -> list[VariantScore]:
    """The drafts' scores as the run recorded them."""
    rows = _rows(env, f"select sku, value from quality where run_id = '{run_id}' "
                      "and subject = 'draft' and metric = 'score'")
    return [VariantScore(key=key, sku=key.split("/")[0], variant=key.split("/")[1],
                         score=value, copy=key.split("/")[1][0] if key.startswith(MUG) else "")
            for key, value in rows]


def test_draft_run_drafts_every_variant_and_delivers_nothing(adforge_env: Path) -> None:
    from flows.brand_content import brand_content, outcome_of

    brief, brand = write_variant_campaign(adforge_env / "in")
    outcome = outcome_of(brand_content(brief=str(brief), brand=str(brand), draft=True,
                                       platforms=PLATFORMS, return_state=True))

    assert outcome["status"] == "completed", outcome["failed"]
    drafts = outcome["drafts"]
    assert len(drafts) == 5  # three backdrop variants of the bottle, A and B of the mug
    assert {d["sku"] for d in drafts} == {BOTTLE, MUG}
    assert {d["variant"].split("-")[0] for d in drafts if d["sku"] == MUG} == {"A", "B"}
    assert len({d["variant"] for d in drafts}) == 5
    sheet = Path(outcome["draft_sheet"])
    with Image.open(sheet) as image:  # two product rows, three variant columns
        assert image.width > 3 * 220 and image.height > 2 * 220
    TEST_OUTPUT.mkdir(exist_ok=True)
    shutil.copy(sheet, TEST_OUTPUT / "draft_sheet.png")
    run_dir = Path(outcome["out_dir"])
    assert not list(run_dir.rglob("*.jpg"))  # nothing delivered
    statuses = _rows(adforge_env, "select status from products where run_id = "
                                  f"'{outcome['run_id']}'")
    assert statuses == [("draft",)] * 5
    assert _rows(adforge_env, "select count(*) from renditions") == [(0,)]


def test_a_run_with_variants_drafts_selects_and_renders_only_the_kept(
        adforge_env: Path) -> None:
    from flows.brand_content import brand_content

    brief, brand = write_variant_campaign(adforge_env / "in")
    outcome = brand_content(brief=str(brief), brand=str(brand), platforms=PLATFORMS)

    # 1. The automatic selection keeps the best draft per copy variant, by the score
    #    the run recorded (ties: the earlier id), and records who chose
    assert outcome["status"] == "completed", outcome["failed"]
    run_id = outcome["run_id"]
    expected = auto_selection(_scores(adforge_env, run_id), keep=1).keys()
    assert len(expected) == 3  # the bottle's best, the mug's A and B
    kept = {key for (key,) in _rows(adforge_env, "select sku from products where "
                                                 f"run_id = '{run_id}' and status = 'done'")}
    assert kept == expected
    not_selected = _rows(adforge_env, "select count(*) from products where "
                                      f"run_id = '{run_id}' and status = 'not-selected'")
    assert not_selected == [(2,)]
    # 2. Only the kept variants, at every platform, under <sku>/<variant>/
    run_dir = Path(outcome["out_dir"])
    delivered = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*.jpg"))
    assert delivered == sorted(f"{key}/{platform}.jpg" for key in expected
                               for platform in PLATFORMS)
    renditions = _rows(adforge_env, f"select sku, platform from renditions where "
                                    f"run_id = '{run_id}'")
    assert {sku for sku, _ in renditions} == expected and len(renditions) == 6
    # 3. The export lists exactly the kept variants' renditions, with their copy
    exported = CliRunner().invoke(app, ["export", run_id, "--format", "json"])
    assert exported.exit_code == 0, exported.output
    rows = json.loads(exported.output)["rows"]
    assert sorted((f"{r['sku']}/{r['variant']}", r["platform"]) for r in rows) == sorted(
        (key, platform) for key in expected for platform in PLATFORMS)
    assert {r["headline"] for r in rows if r["sku"] == MUG} == {
        "Mornings, made slower", "Slow mornings, warm hands"}
    # 4. The cutout was made once per product: every final variant's is a cache hit
    for key in expected:
        job = json.loads((adforge_env / "state" / "assets" / "runs" / run_id / "jobs"
                          / f"{key}.json").read_text())
        assert job["cutout"]["cached"] is True
    # (a fresh store: one segment output per product photo)
    assert _rows(adforge_env, "select count(*) from assets where stage = 'segment'") == [(2,)]


def test_a_manual_selection_pauses_and_the_resumed_choice_is_rendered(
        adforge_env: Path) -> None:
    from prefect.flow_runs import resume_flow_run

    from flows.brand_content import brand_content

    brief, brand = write_variant_campaign(adforge_env / "in")
    finished: dict[str, object] = {}
    worker = threading.Thread(target=lambda: finished.update(state=brand_content(
        brief=str(brief), brand=str(brand), platforms=["instagram_post"],
        selection="manual", return_state=True)))
    worker.start()
    try:
        flow_run_id = paused_flow_run()
        drafted = [key for (key,) in _rows(adforge_env, "select sku from products where "
                                                         "status = 'draft'")]
        assert len(drafted) == 5  # paused after the drafts, before any final
        scores = _scores(adforge_env, _rows(adforge_env, "select id from runs")[0][0])
        worst = min((s for s in scores if s.sku == BOTTLE), key=lambda s: (s.score, s.variant))
        resume_flow_run(flow_run_id, run_input={"selected_by": "ana", "products": [
            {"sku": BOTTLE, "chosen": [worst.variant]}, {"sku": MUG, "chosen": ["B"]}]})
    finally:
        worker.join(timeout=180)
    state = finished["state"]
    assert state.name == "Completed", state.message
    run_id = state.result()["run_id"]
    published = {key for (key,) in _rows(adforge_env, "select sku from renditions where "
                                                      f"run_id = '{run_id}'")}
    mug_b = next(s.key for s in scores if s.sku == MUG and s.variant.startswith("B-"))
    assert published == {worst.key, mug_b}  # the person's choice, not the best draft
    chosen = _rows(adforge_env, "select variant, selected_by from selections where kept "
                                f"and run_id = '{run_id}'")
    assert sorted(chosen) == sorted([(worst.key, "ana"), (mug_b, "ana")])
