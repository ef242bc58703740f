"""Repair before review: the gate stage makes a failing canvas again with the next repair
that can fix it, bounded by `quality.max_attempts`, records every attempt, and sends
what no repair can fix to review at once. The stages run as the flow runs them, without
Prefect: segment, background, composite, layout, text, gate, publish."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from adforge.brandkit import BrandKit
from adforge.brief import BriefRow
from adforge.db import repository as repo
from adforge.db import reviews
from adforge.demo import DEMO_BRAND, DEMO_COPY
from adforge.profiles import profile_named
from adforge.samples import render_sample
from adforge.settings import QualitySettings
from adforge.specs import AdCopy, Box, LayoutSpec, PixelBox
from adforge.stagecache import RunConfig, database, load_blob
from adforge.stages.background import background_products
from adforge.stages.composite import composite_products
from adforge.stages.gate import gate_products, on_another_backdrop
from adforge.stages.job import ProductJob
from adforge.stages.layout import layout_products
from adforge.stages.publish import publish_products, review_folder, run_folder
from adforge.stages.segment import segment_products
from adforge.stages.text import text_products
from models.classic.background import ProceduralBackground
from models.classic.layout import ClassicLayoutAnalyzer
from models.classic.segment import ClassicSegmenter
from models.contracts import SegmentResult, TextResult
from models.registry import backend
from models.repairs import other_segmenter, repair_ladder
from tests.review_inputs import cluttered_photo

PLATFORM = "instagram_post"


class CopyOverTheProduct(ClassicLayoutAnalyzer):
    """A layout analyzer whose first answer puts the headline across the product (as a
    model's layout might): the overlap gate fails it."""

    name = "over-the-product"

    def analyze(self, image: np.ndarray, product_box: PixelBox, copy: AdCopy,
                brand: BrandKit, safe_area: PixelBox) -> LayoutSpec:
        spec = super().analyze(image, product_box, copy, brand, safe_area)
        height, width = image.shape[:2]
        middle = (product_box.y0 + product_box.y1) // 2
        across = PixelBox(product_box.x0, middle - 40, product_box.x1, middle + 40)
        headline = spec.boxes[0].model_copy(update={"box": Box.from_pixels(across, width,
                                                                           height)})
        return spec.model_copy(update={"boxes": [headline, *spec.boxes[1:]],
                                       "made_by": self.name})


class UnreadEdit:
    """An edit model's renderer whose edit passed its checks with OCR unable to read the
    language (its attempt carries no `ocr_*` metric), or, `read=True`, read back."""

    name = "qwen-image-edit"
    needs_product_mask = False

    def __init__(self, read: bool = False) -> None:
        self.read = read
        self.cache_key = f"{self.name}:fake:{read}"

    def render(self, image: np.ndarray, spec: LayoutSpec, copy: AdCopy,
               brand: BrandKit) -> TextResult:
        metrics = {"ocr_headline": 1.0} if self.read else {}
        attempt = {"backend": self.name, "seed": 0, "passed": True, "seconds": 0.1,
                   "metrics": metrics, "failures": [], "notes": []}
        return TextResult(image=image.copy(), backing=image, fits=[], attempts=[attempt])


def _config(folder: Path, text_mode: str = "typeset", **quality: Any) -> RunConfig:
    cfg = RunConfig(run_id=f"run-{folder.name}", db_url=f"sqlite:///{folder / 'adforge.db'}",
                    store=str(folder / "assets"), out_dir=folder / "outputs",
                    profile="classic", backends=profile_named("classic").backends,
                    brand=BrandKit.model_validate(DEMO_BRAND), home=folder,
                    quality=QualitySettings(**quality), text_mode=text_mode)
    repo.start_run(database(cfg.db_url), run_id=cfg.run_id, brief="brief.csv",
                   brief_sha256="s", brand="Hanbit", profile="classic")
    return cfg


def _product(cfg: RunConfig, photo: np.ndarray, kind: str = "bottle") -> ProductJob:
    path = cfg.home / f"{kind}.png"
    Image.fromarray(photo).save(path)
    copy = AdCopy(**{k: DEMO_COPY[kind][k] for k in ("headline", "subline", "cta",
                                                     "language")})
    row = BriefRow(row=2, sku=DEMO_COPY[kind]["sku"], image=path, copy=copy, seed=7)
    repo.upsert_product(database(cfg.db_url), run_id=cfg.run_id, sku=row.sku, name="",
                        source_uri=str(path))
    return ProductJob.for_platforms(row, [PLATFORM])


def _through_the_gate(cfg: RunConfig, job: ProductJob, analyzer: Any,
                      edit: Any = None, generator: Any = None, segmenter: Any = None,
                      other_segmenter: Any = None) -> ProductJob:
    """Every stage up to the gate, as the flow runs them; failures raise here."""
    jobs = [job]
    generator = generator or backend("background", "procedural")
    segmenter = segmenter or backend("segment", "classic")
    renderers = {"edit": edit or backend("text", "typeset"),
                 "typeset": backend("text", "typeset")}
    for stage in (lambda js: segment_products(cfg, js, segmenter),
                  lambda js: background_products(cfg, js, generator),
                  lambda js: composite_products(cfg, js),
                  lambda js: layout_products(cfg, js, analyzer),
                  lambda js: text_products(cfg, js, renderers),
                  lambda js: gate_products(cfg, js, repair_ladder(generator),
                                           other_segmenter)):
        [outcome] = stage(jobs)
        assert isinstance(outcome, ProductJob), outcome
        jobs = [outcome]
    return jobs[0]


def test_a_layout_over_the_product_is_repaired_and_every_attempt_recorded(
        tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    photo, _ = render_sample("bottle", size=384, seed=0)
    job = _through_the_gate(cfg, _product(cfg, photo), CopyOverTheProduct())

    record = job.canvases[PLATFORM].gate
    assert record is not None and [a.number for a in record.attempts] == [1, 2]
    first, second = record.attempts
    assert first.repair is None and "text_product_overlap" in {r.gate for r in first.failed}
    assert second.repair == repair_ladder()[0].name and second.passed
    assert record.kept == 1 and record.passed and not record.held
    assert job.canvases[PLATFORM].layout.meta["layout"]["made_by"] == "classic"

    [published] = publish_products(cfg, [job])
    assert isinstance(published, ProductJob), published
    assert (run_folder(cfg) / job.sku / f"{PLATFORM}.jpg").is_file()
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    [product] = summary["products"]
    assert product["status"] == "done"
    quality = product["quality"]
    assert quality[f"{PLATFORM}:attempt-1"]["text_product_overlap"]["passed"] is False
    assert all(check["passed"] for check in quality[f"{PLATFORM}:attempt-2"].values())
    assert all(check["passed"] for check in quality[PLATFORM].values())
    [rendition] = product["renditions"]
    assert rendition["backends"]["repair"]["attempts"] == 2
    assert "text_product_overlap" in rendition["backends"]["repair"]["reason"]


class GpuBackdrops(ProceduralBackground):
    """The procedural generator standing in for FLUX: a backdrop generator that says
    it runs on a GPU, which is what puts the reseed repair on the ladder."""

    needs_gpu = True
    cache_key = "procedural:as-if-neural"


def test_a_neural_backdrop_is_made_again_from_another_seed(tmp_path: Path) -> None:
    """A product colour change no layout can fix: only the reseed repair is tried, on a
    backdrop made from the next seed, the product composed on it again."""
    cfg = _config(tmp_path, max_delta_e=1e-6)  # every composite fails delta_e
    photo, _ = render_sample("bottle", size=384, seed=0)
    generator = GpuBackdrops()
    job = _through_the_gate(cfg, _product(cfg, photo), ClassicLayoutAnalyzer(),
                            generator=generator)

    reseed = repair_ladder(generator)[-1]
    assert reseed.generator is generator and "delta_e" in reseed.fixes
    assert len(repair_ladder(backend("background", "procedural"))) == 2  # CPU: no reseed
    record = job.canvases[PLATFORM].gate
    assert [(a.number, a.repair) for a in record.attempts] == [(1, None), (2, reseed.name)]
    assert record.held and [f["gate"] for f in record.failing()] == ["delta_e"]
    canvas = job.canvases[PLATFORM]
    again = on_another_backdrop(cfg, job, canvas, generator, 1)
    assert again.background.key != canvas.background.key
    assert again.composite.key != canvas.composite.key
    assert again.layout is None and again.text is None
    first = np.load(io.BytesIO(load_blob(cfg, canvas.background.blobs["background"])))
    second = np.load(io.BytesIO(load_blob(cfg, again.background.blobs["background"])))
    assert first.shape == second.shape and not np.array_equal(first, second)


class UnsureSegmenter(ClassicSegmenter):
    """The classic segmenter's cutout with almost no confidence in it: what BiRefNet
    says of a photo it cannot read (and what its tiny random version says of all)."""

    name = "unsure"

    @property
    def cache_key(self) -> str:
        return self.name

    def segment(self, image: np.ndarray) -> SegmentResult:
        result = super().segment(image)
        return SegmentResult(rgba=result.rgba, confidence=0.02, warnings=result.warnings)


def test_an_unsure_cutout_is_cut_out_again_by_the_other_segmenter(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    photo, _ = render_sample("bottle", size=384, seed=0)
    job = _through_the_gate(cfg, _product(cfg, photo), ClassicLayoutAnalyzer(),
                            segmenter=UnsureSegmenter(),
                            other_segmenter=other_segmenter("birefnet"))

    assert other_segmenter("classic") is None  # the classic profile has no other one
    record = job.canvases[PLATFORM].gate
    first, second = record.attempts
    assert first.repair is None and [r.gate for r in first.failed] == ["segment_confidence"]
    assert second.repair == f"classic segmenter, {repair_ladder()[0].name}"
    assert second.passed and record.kept == 1 and not record.held
    assert job.cutout.meta["confidence"] >= 0.5  # the product now has the classic cutout
    [published] = publish_products(cfg, [job])
    assert isinstance(published, ProductJob), published
    assert (run_folder(cfg) / job.sku / f"{PLATFORM}.jpg").is_file()
    [product] = repo.run_summary(database(cfg.db_url), cfg.run_id)["products"]
    assert product["status"] == "done"
    assert product["quality"]["cutout"]["segment_confidence"]["passed"] is True
    assert product["quality"][f"{PLATFORM}:attempt-1"]["segment_confidence"]["passed"] is False


class BrokenSegmenter(ClassicSegmenter):
    """A segmenter that cannot cut the product out at all."""

    name = "broken"

    @property
    def cache_key(self) -> str:
        return self.name

    def segment(self, image: np.ndarray) -> SegmentResult:
        raise ValueError("no product found")


def test_an_other_segmenter_that_fails_leaves_the_product_waiting_for_review(
        tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    photo, _ = render_sample("bottle", size=384, seed=0)
    job = _through_the_gate(cfg, _product(cfg, photo), ClassicLayoutAnalyzer(),
                            segmenter=UnsureSegmenter(), other_segmenter=BrokenSegmenter())

    record = job.canvases[PLATFORM].gate
    assert len(record.attempts) == 1 and record.held
    assert [f["gate"] for f in record.failing()] == ["segment_confidence"]
    assert job.cutout.meta["confidence"] < 0.5  # the first segmenter's cutout stays


def test_repairs_stop_at_max_attempts_and_the_canvas_goes_to_review(tmp_path: Path) -> None:
    cfg = _config(tmp_path, max_attempts=1)
    photo, _ = render_sample("bottle", size=384, seed=0)
    job = _through_the_gate(cfg, _product(cfg, photo), CopyOverTheProduct())

    record = job.canvases[PLATFORM].gate
    assert len(record.attempts) == 1 and record.held
    [published] = publish_products(cfg, [job])
    assert isinstance(published, ProductJob)
    assert not (run_folder(cfg) / job.sku / f"{PLATFORM}.jpg").exists()
    assert (review_folder(cfg, job.sku) / f"{PLATFORM}.jpg").is_file()
    assert (review_folder(cfg, job.sku) / f"{PLATFORM}.gates.json").is_file()
    [item] = reviews.items(database(cfg.db_url), run_id=cfg.run_id)
    assert "text_product_overlap" in {f["gate"] for f in item["failing"]}


def test_an_unsure_cutout_goes_to_review_without_a_repair(tmp_path: Path) -> None:
    """No repair lays out a better cutout: one attempt, held with its confidence."""
    cfg = _config(tmp_path)
    job = _through_the_gate(cfg, _product(cfg, cluttered_photo(), "mug"),
                            ClassicLayoutAnalyzer())

    record = job.canvases[PLATFORM].gate
    assert len(record.attempts) == 1 and record.held
    assert [f["gate"] for f in record.failing()] == ["segment_confidence"]


def test_gates_that_only_record_deliver_everything(tmp_path: Path) -> None:
    cfg = _config(tmp_path, enforce=False)
    job = _through_the_gate(cfg, _product(cfg, cluttered_photo(), "mug"),
                            ClassicLayoutAnalyzer())

    assert not job.canvases[PLATFORM].gate.held
    publish_products(cfg, [job])
    assert (run_folder(cfg) / job.sku / f"{PLATFORM}.jpg").is_file()
    summary = repo.run_summary(database(cfg.db_url), cfg.run_id)
    assert summary["products"][0]["quality"]["cutout"]["segment_confidence"]["passed"] is False


@pytest.mark.parametrize("kind", ["bottle", "jar"])
def test_a_clean_product_needs_no_repair(tmp_path: Path, kind: str) -> None:
    cfg = _config(tmp_path)
    photo, _ = render_sample(kind, size=384, seed=1)
    job = _through_the_gate(cfg, _product(cfg, photo, kind), ClassicLayoutAnalyzer())
    record = job.canvases[PLATFORM].gate
    assert len(record.attempts) == 1 and record.passed, record.chosen.failed


@pytest.mark.parametrize("read", [False, True])
def test_an_edit_ocr_could_not_read_is_typeset_instead(tmp_path: Path, read: bool) -> None:
    """The copy gate accepts an edit only verified by OCR: unread, the typesetting
    repair sets the copy; read back, the edit stays."""
    cfg = _config(tmp_path, text_mode="edit")
    photo, _ = render_sample("bottle", size=384, seed=0)
    job = _through_the_gate(cfg, _product(cfg, photo), ClassicLayoutAnalyzer(),
                            UnreadEdit(read))

    record = job.canvases[PLATFORM].gate
    text = job.canvases[PLATFORM].text.meta["backends"]["text"]
    if read:
        assert len(record.attempts) == 1 and record.passed and text["backend"] == "edit"
        return
    assert [r.gate for r in record.attempts[0].failed] == ["copy_exact"]
    assert record.attempts[1].passed and record.kept == 1
    assert text == {"backend": "typeset"}
