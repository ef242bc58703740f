"""Drafted variants for the selection tests: two products with three variants each,
scored by `draft_score` from gate measures as a draft pass measures them, a labelled
draft sheet, and a small flow that records its run and calls `choose_variants`.

`python -m tests.select_inputs FOLDER SELECTION TIMEOUT_S` runs that flow in its own
process (against PREFECT_API_URL's server): the service test's paused run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adforge.brandkit import BrandKit
from adforge.db import repository as repo
from adforge.demo import DEMO_BRAND
from adforge.profiles import profile_named
from adforge.stagecache import RunConfig, database
from adforge.variants import Selection, VariantScore, draft_score, item_key, variant_id

RUN_ID = "run-select"
THRESHOLDS = {"min_contrast": 4.5, "text_product_overlap": 0.05, "delta_e": 3.0,
              "segment_confidence": 0.5}
# (sku, label, seed, style, measures): BOTTLE's B is best, JAR's A and C tie on score
DRAFTS = [
    ("BOTTLE-1", "A", 1, "ocean", {"min_contrast": 6.0, "text_product_overlap": 0.01,
                                   "delta_e": 1.5, "segment_confidence": 0.9}),
    ("BOTTLE-1", "B", 2, "warm", {"min_contrast": 9.0, "text_product_overlap": 0.0,
                                  "delta_e": 0.5, "segment_confidence": 0.95}),
    ("BOTTLE-1", "C", 3, "studio-dark", {"min_contrast": 4.0, "text_product_overlap": 0.04,
                                         "delta_e": 2.9, "segment_confidence": 0.9}),
    ("JAR-2", "A", 1, "ocean", {"min_contrast": 7.0, "text_product_overlap": 0.0,
                                "delta_e": 1.0, "segment_confidence": 0.8}),
    ("JAR-2", "B", 2, "warm", {"min_contrast": 5.0, "text_product_overlap": 0.02,
                               "delta_e": 2.0, "segment_confidence": 0.8}),
    ("JAR-2", "C", 3, "studio-dark", {"min_contrast": 7.0, "text_product_overlap": 0.0,
                                      "delta_e": 1.0, "segment_confidence": 0.8}),
]


def drafted_scores() -> list[VariantScore]:
    """Every draft's score from its measures, as the draft pass would record it."""
    scores = []
    for sku, label, seed, style, measures in DRAFTS:
        vid = variant_id(sku, label, seed, style)
        score, terms = draft_score(measures, THRESHOLDS)
        scores.append(VariantScore(key=item_key(sku, vid, True), sku=sku, variant=vid,
                                   score=score, terms=terms))
    return scores


def score_of(sku: str, label: str) -> VariantScore:
    return next(s for s in drafted_scores() if s.sku == sku and s.variant.startswith(f"{label}-"))


def select_config(folder: Path) -> RunConfig:
    """A run whose store, outputs and SQLite tracking database are under `folder`."""
    return RunConfig(run_id=RUN_ID, db_url=f"sqlite:///{folder / 'adforge.db'}",
                     store=str(folder / "assets"), out_dir=folder / "outputs",
                     profile="classic", backends=profile_named("classic").backends,
                     brand=BrandKit.model_validate(DEMO_BRAND), home=folder)


def write_draft_sheet(cfg: RunConfig) -> Path:
    """A draft sheet as the draft pass lays it out: a row per product, a column per
    variant, each cell labelled with its variant id and score."""
    by_sku: dict[str, list[VariantScore]] = {}
    for item in drafted_scores():
        by_sku.setdefault(item.sku, []).append(item)
    cell, sheet = 200, np.full((200 * len(by_sku), 600, 3), 245, np.uint8)
    for row, items in enumerate(by_sku.values()):
        for column, item in enumerate(items):
            x, y = column * cell, row * cell
            shade = (60 + 60 * column, 140, 220 - 50 * row)
            cv2.rectangle(sheet, (x + 8, y + 8), (x + cell - 8, y + cell - 48), shade, -1)
            for line, text in enumerate((f"{item.sku} {item.variant}", f"score {item.score:.2f}")):
                cv2.putText(sheet, text, (x + 10, y + cell - 30 + 18 * line),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.42, (20, 20, 20), 1, cv2.LINE_AA)
    path = cfg.out_dir / cfg.run_id / "draft-sheet.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), sheet)
    return path


def selection_flow() -> Any:
    """The flow: records its run (with its flow run's id, as the campaign's first step
    does), then `choose_variants` over the drafted variants, keeping 1 per product."""
    from prefect import flow
    from prefect.context import get_run_context

    from flows.select import choose_variants

    @flow(name="select-variants")
    def select_variants(folder: str, selection: str, timeout_s: int, keep: int = 1,
                        sheet: bool = True) -> dict:
        cfg = select_config(Path(folder))
        repo.start_run(database(cfg.db_url), run_id=cfg.run_id, brief="brief.csv",
                       brief_sha256="s", brand="Hanbit", profile="classic",
                       flow_run_id=str(get_run_context().flow_run.id))
        chosen = choose_variants(cfg, drafted_scores(), keep, selection, timeout_s,
                                 write_draft_sheet(cfg) if sheet else None)
        return as_plain(chosen)

    return select_variants


def as_plain(selection: Selection) -> dict:
    return {"kept": selection.kept, "by": selection.by}


if __name__ == "__main__":
    from adforge_app.prefect_env import configure_prefect_environment

    configure_prefect_environment()
    target, how, seconds = sys.argv[1:4]
    print(selection_flow()(folder=target, selection=how, timeout_s=int(seconds)))
