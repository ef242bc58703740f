"""The tiny profile end to end through the campaign flow: every stage on a tiny random
model, each model loaded once per batch whatever its size, fallbacks recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from adforge.demo import DEMO_COPY
from adforge.specs import PRESETS
from tests.campaign_inputs import write_campaign
from tests.task_runs import count_task_runs

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
KINDS = list(DEMO_COPY)


def write_tiny_campaign(folder: Path, products: int) -> tuple[Path, Path]:
    """The first `products` demo kinds (256 px, plain backdrops), SKUs TINY-0, TINY-1, ..."""
    return write_campaign(folder, tuple(KINDS[:products]), size=256, backdrops=("plain",),
                          sku_prefix="TINY")


def loads_by_model(env: Path, run_id: str) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select model, count(*) from model_events where "
                                    "run_id = :run and action = 'load' group by model"),
                            {"run": run_id}).all()
    return {Path(model).name: count for model, count in rows}


@pytest.mark.parametrize("products", [2, 6])
def test_each_model_loads_once_over_every_canvas(tiny_env, products):
    """Every product x all six platforms, stage-major over the canvases: one load per
    model, and every published ad says which backend made each part (a fallback with
    its reason)."""
    from flows.brand_content import brand_content

    brief, brand = write_tiny_campaign(tiny_env / f"in-{products}", products)
    result = brand_content(brief=str(brief), brand=str(brand), platforms=list(PRESETS))
    assert result["status"] == "completed", result.get("failed")
    loads = loads_by_model(tiny_env, result["run_id"])
    assert loads == {"tiny-birefnet": 1, "tiny-flux": 1, "tiny-qwen2vl": 1,
                     "tiny-qwen-image-edit-2509": 1}
    run_dir = Path(result["out_dir"])
    renditions = rendition_rows(tiny_env, result["run_id"])
    assert len(renditions) == products * len(PRESETS)
    for sku, platform, backends in renditions:
        preset = PRESETS[platform]
        with Image.open(run_dir / sku / f"{platform}.jpg") as image:
            assert image.size == (preset.width, preset.height)
        assert backends["segment"] == {"backend": "birefnet"}
        assert backends["background"]["backend"] == "flux"
        assert_made_by(backends["layout"], "qwen2-vl", "classic")
        assert_made_by(backends["text"], "edit", "typeset")


def assert_made_by(part: dict, model: str, fallback: str) -> None:
    """The part was made by the model, or by the fallback with the reason recorded."""
    if part["backend"] == model:
        assert "fallback_from" not in part, part
    else:
        assert part["backend"] == fallback, part
        assert part["fallback_from"] and len(part["reason"]) > 10, part


def rendition_rows(env: Path, run_id: str) -> list[tuple[str, str, dict]]:
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select sku, platform, backends from renditions "
                                    "where run_id = :run"), {"run": run_id}).all()
    return [(sku, platform, json.loads(backends) if isinstance(backends, str) else backends)
            for sku, platform, backends in rows]


def test_each_canvas_backdrop_is_generated_at_its_own_aspect(tiny_env):
    """The blog header's backdrop was asked for at 1200x600 and generated at 2:1 (FLUX's
    sides rounded to 16 within the tiny model's side cap), not cropped from a square."""
    from flows.brand_content import brand_content

    brief, brand = write_tiny_campaign(tiny_env / "in-aspect", 1)
    result = brand_content(brief=str(brief), brand=str(brand),
                           platforms=["instagram_post", "blog_header", "instagram_story"])
    assert result["status"] == "completed", result.get("failed")
    job = saved_job(tiny_env, result["run_id"], "TINY-0")
    for platform, (width, height) in {"blog_header": (1200, 600), "instagram_post": (1080, 1080),
                                      "instagram_story": (1080, 1920)}.items():
        made = job["canvases"][platform]["background"]["meta"]
        assert (made["width"], made["height"]) == (width, height)
        generated_w, generated_h = made["generated"]
        assert abs(generated_w / generated_h - width / height) < 0.15, made
    headers = [b for _, p, b in rendition_rows(tiny_env, result["run_id"]) if p == "blog_header"]
    assert headers[0]["background"]["width"] == 1200 and headers[0]["background"]["height"] == 600


def saved_job(env: Path, run_id: str, sku: str) -> dict:
    """A product's stage manifests as the run kept them in the store."""
    saved = env / "state" / "assets" / "runs" / run_id / "jobs" / f"{sku}.json"
    return json.loads(saved.read_text())


@pytest.fixture()
def shared_encoder_env(tiny_env, monkeypatch):
    """The layout stage on Qwen-Image-Edit's own text encoder (other model settings:
    the registry builds other backends)."""
    monkeypatch.setenv("ADFORGE_MODELS__QWEN2VL__SHARE_EDIT_TEXT_ENCODER", "true")
    return tiny_env


def test_the_layout_and_edit_stages_share_one_text_encoder_load(shared_encoder_env):
    """Qwen-Image-Edit's text encoder is a Qwen2.5-VL: the layout stage loads it once and
    the edit pipeline borrows it; no separate Qwen2-VL is loaded."""
    from adforge.settings import Settings
    from flows.brand_content import brand_content
    from models.registry import backend

    brief, brand = write_tiny_campaign(shared_encoder_env / "in-shared", 2)
    result = brand_content(brief=str(brief), brand=str(brand))
    assert result["status"] == "completed", result.get("failed")
    loads = loads_by_model(shared_encoder_env, result["run_id"])
    assert loads == {"tiny-birefnet": 1, "tiny-flux": 1, "text_encoder": 1,
                     "tiny-qwen-image-edit-2509": 1}
    models = Settings().run_models()  # as the flow's first step resolved them
    analyzer = backend("layout", "qwen2-vl", models)
    renderer = backend("text", "qwen-image-edit", models)
    assert renderer.text_encoder_from is analyzer
    assert renderer._pipeline.text_encoder is analyzer.vl_model


def test_segment_and_background_run_in_micro_batches(tiny_env):
    """Six products: BiRefNet (4 per pass) in two batch tasks, FLUX (2 per pass) in
    three; the imaging stages run two products per task (automatic for six)."""
    from flows.brand_content import brand_content

    brief, brand = write_tiny_campaign(tiny_env / "in-batches", 6)
    result = brand_content(brief=str(brief), brand=str(brand))
    assert result["status"] == "completed", result.get("failed")
    counts = count_task_runs(sa.create_engine(f"sqlite:///{tiny_env / 'state' / 'adforge.db'}"),
                             result["run_id"])
    assert counts["segment_batch"] == 2, counts
    assert counts["background_batch"] == 3, counts
    assert counts["composite_batch"] == 3, counts  # products_per_task, automatic: 2 for 6
    assert "segment" not in counts and "background" not in counts, counts
    attempts = text_attempts(tiny_env, result["run_id"])
    for index in range(6):  # a tiny random edit fails verification: typesetting takes over
        assert attempts[f"TINY-{index}"] == [("instagram_post:text-1-qwen-image-edit", False),
                                             ("instagram_post:text-2-typeset", True)]


def text_attempts(env: Path, run_id: str) -> dict[str, list[tuple[str, bool]]]:
    """Each product's recorded text attempts (subject, verdict), in order."""
    engine = sa.create_engine(f"sqlite:///{env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select sku, subject, passed from quality where run_id = :run and "
            "subject like :pattern and metric = 'seconds' order by subject"),
            {"run": run_id, "pattern": "%:text-%"}).all()
    found: dict[str, list[tuple[str, bool]]] = {}
    for sku, subject, passed in rows:
        found.setdefault(sku, []).append((subject, bool(passed)))
    return found


def test_the_text_edit_is_checked_inside_the_product_mask(tiny_env):
    """The text stage hands the edit check the product's matte, so fidelity is measured
    on the product itself (not on everything outside the text boxes)."""
    from flows.brand_content import brand_content

    brief, brand = write_tiny_campaign(tiny_env / "in-mask", 1)
    result = brand_content(brief=str(brief), brand=str(brand))
    assert result["status"] == "completed", result.get("failed")
    job = saved_job(tiny_env, result["run_id"], "TINY-0")
    edit = job["canvases"]["instagram_post"]["text"]["meta"]["attempts"][0]
    assert edit["backend"] == "qwen-image-edit"
    assert not any("no product mask" in note for note in edit["notes"]), edit["notes"]
    assert "product_ssim" in edit["metrics"], edit


def test_a_corrupt_photo_fails_alone_inside_its_batch(tiny_env):
    from flows.brand_content import brand_content

    brief, brand = write_tiny_campaign(tiny_env / "in-corrupt", 3)
    (tiny_env / "in-corrupt" / "photos" / f"{KINDS[1]}.png").write_bytes(b"not a png at all")
    result = brand_content(brief=str(brief), brand=str(brand))
    assert result["status"] == "partial"
    assert set(result["failed"]) == {"TINY-1"}
    assert result["failed"]["TINY-1"].startswith("segment:")
    engine = sa.create_engine(f"sqlite:///{tiny_env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        errors = conn.execute(sa.text("select sku, stage, field from errors where run_id = "
                                      ":run and kind != 'warning'"),
                              {"run": result["run_id"]}).all()
    assert [tuple(row) for row in errors] == [("TINY-1", "segment", "image")]
    for sku in ("TINY-0", "TINY-2"):
        assert (Path(result["out_dir"]) / sku / "instagram_post.jpg").is_file()


def test_adforge_run_profile_tiny_runs_the_tiny_models(tiny_env, monkeypatch):
    """`adforge run --profile tiny` with no ADFORGE_PROFILE in the environment: the run's
    profile, not the process's, chooses the model settings (the tiny checkpoints)."""
    from typer.testing import CliRunner

    from adforge_app.cli import app

    monkeypatch.delenv("ADFORGE_PROFILE")
    brief, brand = write_tiny_campaign(tiny_env / "in-cli", 1)
    result = CliRunner().invoke(app, ["run", str(brief), "--brand", str(brand),
                                      "--profile", "tiny", "--platforms", "instagram_post"])
    assert result.exit_code == 0, result.output
    assert "completed" in result.output


def test_a_reference_image_restyles_and_text_mode_typeset_keeps_the_brand_fonts(tiny_env):
    """A row's `reference` reaches FLUX's image-to-image on each of its canvases, and its
    `text_mode: typeset` sets the copy with the brand's fonts (no edit model); the other
    row is generated from its prompt and edited (or typeset after a failed edit)."""
    from adforge.brief import write_brief
    from flows.brand_content import brand_content

    folder = tiny_env / "in-reference"
    brief, brand = write_tiny_campaign(folder, 2)
    Image.new("RGB", (96, 64), (30, 90, 160)).save(folder / "mood.png")
    rows = [{**DEMO_COPY[KINDS[0]], "sku": "TINY-0", "image": f"photos/{KINDS[0]}.png",
             "reference": "mood.png", "reference_strength": 0.7, "text_mode": "typeset"},
            {**DEMO_COPY[KINDS[1]], "sku": "TINY-1", "image": f"photos/{KINDS[1]}.png"}]
    write_brief(rows, brief)
    result = brand_content(brief=str(brief), brand=str(brand),
                           platforms=["instagram_post", "blog_header"])
    assert result["status"] == "completed", result.get("failed")
    rows = rendition_rows(tiny_env, result["run_id"])
    made = {(sku, platform): backends
            for sku, platform, backends in rows}
    assert len(made) == 4, (rows, result)
    for platform in ("instagram_post", "blog_header"):
        restyled, generated = made[("TINY-0", platform)], made[("TINY-1", platform)]
        assert restyled["background"]["restyled"] is True
        assert generated["background"]["restyled"] is False
        assert restyled["text"] == {"backend": "typeset"}
        assert_made_by(generated["text"], "edit", "typeset")
        assert generated["text"].get("attempts", 0) >= 1


def test_a_tiny_run_cuts_an_unsure_product_out_again_with_the_classic_segmenter(
        tiny_env, monkeypatch):
    """Enforced, the gates catch what the tiny BiRefNet makes: an unsure cutout whose
    matte covers nearly nothing (the product vanished from the ad). The repair cuts the
    product out again with the classic segmenter and remakes its canvas on that cutout,
    which passes: delivered, both attempts recorded, the repair named."""
    from flows.brand_content import brand_content

    monkeypatch.setenv("ADFORGE_QUALITY__ENFORCE", "true")
    brief, brand = write_tiny_campaign(tiny_env / "in-gates", 1)
    state = brand_content(brief=str(brief), brand=str(brand), return_state=True)
    result = state.result()
    assert state.name == "Completed" and result["counts"]["published"] == 1, state.message
    [(sku, platform, backends)] = rendition_rows(tiny_env, result["run_id"])
    assert backends["repair"]["backend"].startswith("classic segmenter")
    assert "segment_confidence" in backends["repair"]["reason"]
    assert "product_visible" in backends["repair"]["reason"]
    job = saved_job(tiny_env, result["run_id"], "TINY-0")
    [first, second] = job["canvases"]["instagram_post"]["gate"]["attempts"]
    assert first["repair"] is None and second["repair"] == backends["repair"]["backend"]
    assert job["cutout"]["backend"] == "classic"


def test_a_tiny_run_holds_what_no_segmenter_is_sure_of(tiny_env, monkeypatch):
    """With a confidence no segmenter reaches, the product waits for review: nothing is
    delivered; its canvas is in the review folder; the run is Partial, not completed."""
    from flows.brand_content import brand_content

    monkeypatch.setenv("ADFORGE_QUALITY__ENFORCE", "true")
    monkeypatch.setenv("ADFORGE_QUALITY__MIN_SEGMENT_CONFIDENCE", "1.0")
    brief, brand = write_tiny_campaign(tiny_env / "in-held", 1)
    state = brand_content(brief=str(brief), brand=str(brand), return_state=True)
    result = state.result()
    assert state.name == "Partial" and result["counts"]["in_review"] == 1, state.message
    assert "segment_confidence" in result["in_review"]["TINY-0"]
    assert rendition_rows(tiny_env, result["run_id"]) == []
    assert not (Path(result["out_dir"]) / "TINY-0").exists()
    assert (Path(result["out_dir"]) / "review" / "TINY-0" / "instagram_post.jpg").is_file()
