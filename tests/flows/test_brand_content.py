"""The campaign flow end to end under a real Prefect harness: files, rows, faults, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from adforge.brief import write_brief
from adforge.demo import DEMO_COPY
from adforge.specs import PRESETS
from adforge_app.cli import app
from flows.brand_content import products_per_task
from tests.campaign_inputs import write_campaign
from tests.conftest import TEST_OUTPUT
from tests.task_runs import count_task_runs, task_runs

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

KINDS = ("bottle", "box", "jar")  # Korean, English and Chinese copy


def _write_campaign(folder: Path, kinds: tuple[str, ...] = KINDS) -> tuple[Path, Path]:
    return write_campaign(folder, kinds, size=512)


def _engine(env: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")


def _count(env: Path, table: str, where: str = "1=1") -> int:
    with _engine(env).connect() as conn:
        return conn.execute(sa.text(f"select count(*) from {table} where {where}")).scalar_one()


def _run(brief: Path, brand: Path) -> dict:
    from flows.brand_content import brand_content

    return brand_content(brief=str(brief), brand=str(brand))


def test_campaign_writes_every_platform_files_and_rows(adforge_env: Path) -> None:
    brief, brand = _write_campaign(adforge_env / "in")
    result = _run(brief, brand)

    assert result["status"] == "completed", result["failed"]
    run_dir = Path(result["out_dir"])
    for kind in KINDS:
        sku = DEMO_COPY[kind]["sku"]
        for name, preset in PRESETS.items():
            with Image.open(run_dir / sku / f"{name}.jpg") as image:
                assert image.size == (preset.width, preset.height)
            layout = json.loads((run_dir / sku / f"{name}.layout.json").read_text())
            assert layout["made_by"] == "classic"
        assert (run_dir / sku / "cutout.png").is_file()
    assert (run_dir / "contact_sheet-001.png").stat().st_size > 10_000
    assert result["contact_sheets"] == [result["contact_sheet"]]  # three products: one page
    assert Path(result["contact_sheet"]) == run_dir / "contact_sheet-001.png"
    assert "HB-BOTTLE-01" in (run_dir / "report.html").read_text(encoding="utf-8")
    assert _count(adforge_env, "renditions") == len(KINDS) * len(PRESETS)
    assert _count(adforge_env, "quality", "passed = 0") == 0
    TEST_OUTPUT.mkdir(exist_ok=True)
    shutil.copy(run_dir / "contact_sheet-001.png", TEST_OUTPUT / "flow_contact_sheet.png")

    report = CliRunner().invoke(app, ["report", "--json"])
    assert report.exit_code == 0, report.output
    summary = json.loads(report.output)
    assert summary["run_id"] == result["run_id"] and summary["status"] == "completed"
    assert {p["sku"] for p in summary["products"]} == {DEMO_COPY[k]["sku"] for k in KINDS}
    first = summary["products"][0]
    assert {r["platform"] for r in first["renditions"]} == set(PRESETS)
    assert {"platform", "width", "height", "uri", "backends"} <= set(first["renditions"][0])
    made_by = first["renditions"][0]["backends"]
    assert made_by["layout"] == {"backend": "classic"} and made_by["text"] == {
        "backend": "typeset"}
    assert made_by["background"]["backend"] == "procedural"

    # A rerun of the same brief resumes: every stage is skipped, no duplicate rows.
    assets_before = _count(adforge_env, "assets")
    again = _run(brief, brand)
    assert again["status"] == "completed"
    assert _count(adforge_env, "assets") == assets_before
    with _engine(adforge_env).connect() as conn:
        dupes = conn.execute(sa.text(
            "select count(*) from (select run_id, sku, platform from renditions "
            "group by run_id, sku, platform having count(*) > 1)")).scalar_one()
    assert dupes == 0
    assert _count(adforge_env, "renditions", f"run_id = '{again['run_id']}'") == \
        len(KINDS) * len(PRESETS)


@pytest.mark.parametrize("products_per_task", [1, 2])
def test_corrupt_image_fails_alone_and_is_recorded(adforge_env: Path, products_per_task: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with two products per task run: the corrupt photo shares its task with a
    good one, which still goes through every stage."""
    monkeypatch.setenv("ADFORGE_SCALE__PRODUCTS_PER_TASK", str(products_per_task))
    brief, brand = _write_campaign(adforge_env / "in")
    (adforge_env / "in" / "photos" / "box.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    result = _run(brief, brand)

    assert result["status"] == "partial"
    assert set(result["failed"]) == {"HB-GIFTBOX-02"}
    assert result["products"] == 2
    with _engine(adforge_env).connect() as conn:
        stage, kind, message = conn.execute(sa.text(
            "select stage, kind, message from errors where sku = 'HB-GIFTBOX-02'")).one()
    assert (stage, kind) == ("segment", "input")
    assert "box.png" in message
    run_dir = Path(result["out_dir"])
    for sku in ("HB-BOTTLE-01", "HB-HONEY-03"):
        assert len(list((run_dir / sku).glob("*.jpg"))) >= len(PRESETS)
    tasks = count_task_runs(_engine(adforge_env), result["run_id"])
    if products_per_task == 2:  # 3 products: batches of 2 and 1 (the bad one left at segment)
        assert tasks["segment_batch"] == 2 and tasks["text_batch"] == 1, tasks
        names = {run.name for run in task_runs(_engine(adforge_env), result["run_id"])}
        assert "segment-HB-BOTTLE-01+HB-GIFTBOX-02" in names, names
    else:  # one product per task run
        assert tasks["segment_batch"] == 3 and tasks["text_batch"] == 2, tasks



@pytest.mark.parametrize(("setting", "products", "expected"), [
    (0, 3, 1), (0, 8, 2), (0, 50, 13), (0, 1000, 16), (1, 50, 1), (5, 3, 5)])
def test_products_per_task_spreads_a_stage_over_two_task_runs_per_worker(
        setting: int, products: int, expected: int) -> None:
    assert products_per_task(setting, products) == expected


def test_three_bad_rows_are_all_reported_and_the_rest_runs(adforge_env: Path) -> None:
    brief, brand = _write_campaign(adforge_env / "in", kinds=("bottle", "jar"))
    rows = [
        {**DEMO_COPY["bottle"], "image": "photos/bottle.png"},
        {**DEMO_COPY["jar"], "image": "photos/jar.png"},
        {**DEMO_COPY["jar"], "image": "photos/jar.png"},  # duplicate SKU
        {**DEMO_COPY["box"], "sku": "../etc", "image": "photos/bottle.png"},  # unsafe SKU
        {**DEMO_COPY["mug"], "image": "photos/missing.png"},  # missing image
    ]
    write_brief(rows, brief)
    result = _run(brief, brand)

    assert result["status"] == "partial"
    with _engine(adforge_env).connect() as conn:
        errors = conn.execute(sa.text(
            "select field, message from errors where stage = 'brief'")).all()
    fields = sorted(field for field, _ in errors)
    assert fields == ["image", "sku", "sku"], errors
    messages = " ".join(message for _, message in errors)
    assert "row 4" in messages and "row 5" in messages and "row 6" in messages
    assert (Path(result["out_dir"]) / "HB-BOTTLE-01" / "instagram_post.jpg").is_file()


def test_renditions_flow_adds_a_platform_without_models(adforge_env: Path) -> None:
    from flows.renditions import renditions

    brief, brand = _write_campaign(adforge_env / "in", kinds=("mug",))
    first = _run(brief, brand)
    events = _count(adforge_env, "model_events")
    out = renditions(platforms=["800x800"], run_id=first["run_id"])

    path = Path(out["uris"]["HB-MUG-04"]["800x800"])
    image = np.asarray(Image.open(path))
    assert image.shape[:2] == (800, 800)
    assert _count(adforge_env, "model_events") == events
    assert _count(adforge_env, "renditions", f"run_id = '{first['run_id']}'") == len(PRESETS) + 1
