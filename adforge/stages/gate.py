"""Gate: every finished canvas judged by the quality gates, and repaired before anyone
is asked to look at it.

A canvas that fails a gate is made again with the next repair that can fix one of its
failing gates (a `Repair`: another layout analyzer and text renderer, such as the
classic layout with more contrast and an underlay, or smaller type, typeset with the
brand's fonts; for a neural backdrop, another backdrop from the next seed, the product
composed on it again), at most `quality.max_attempts` renderings in all, the
first included.
Every attempt is kept in the canvas's `gate` record; the canvas keeps the first passing
rendering, else the one with the fewest failing gates, and is held for review
(publish puts it in the review folder). A product whose cutout the segmenter was unsure
of is cut out again by the profile's other segmenter, where it has one (the classic one
on a BiRefNet profile), its canvases remade on that cutout (instead of the canvas
repairs, which cannot deliver it); a gate no repair can fix (a
product colour change on the classic backdrops) sends the canvas to review at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adforge.errors import TransientError
from adforge.gates import Attempt, GateRecord, evaluate
from adforge.stagecache import RunConfig
from adforge.stages.background import plan_backdrop, store_backdrop
from adforge.stages.composite import composite_canvas
from adforge.stages.job import CanvasJob, Outcome, ProductJob, attempt, each_canvas
from adforge.stages.layout import layout_canvas
from adforge.stages.segment import segment_products
from adforge.stages.text import text_canvas

SEEDS = 2**32  # a row's seed is below this


@dataclass(frozen=True)
class Repair:
    """Another way to make a canvas: a layout analyzer and a text renderer (any object
    of the stage contracts), tried when one of the gates it `fixes` failed."""

    name: str
    analyzer: Any
    renderer: Any
    fixes: frozenset[str]
    generator: Any = None  # set: a new backdrop from it first, the row's seed + seed_step
    seed_step: int = 0


def gate_products(cfg: RunConfig, jobs: list[ProductJob], repairs: list[Repair],
                  segmenter: Any = None) -> list[Outcome]:
    """Each product's job with a `gate` record on every canvas (the canvas's layout and
    text those of the rendering kept), or what failed it. `segmenter`: the profile's
    other segmenter, which cuts out again a product whose cutout the gates found unsure."""
    if segmenter is None or not repairs:
        return each_canvas(gate_canvas, cfg, jobs, repairs)
    outcomes = []
    for job in jobs:  # an unsure cutout: its canvases are remade on another one instead
        unsure = job.need("cutout").meta["confidence"] < cfg.quality.min_segment_confidence
        [outcome] = each_canvas(gate_canvas, cfg, [job], [] if unsure else repairs)
        outcomes.append(attempt(cut_out_again, cfg, outcome, segmenter, repairs[0])
                        if isinstance(outcome, ProductJob) else outcome)
    return outcomes


def measures_of(job: ProductJob, canvas: CanvasJob) -> dict[str, float]:
    """What the stages measured of a canvas: the finished ad's checks, the product's
    colour change, the cutout's confidence."""
    return {**canvas.need("text", job.sku).meta["quality"],
            "delta_e": float(canvas.need("composite", job.sku).meta["delta_e"]),
            "segment_confidence": float(job.need("cutout").meta["confidence"])}


def judge(cfg: RunConfig, job: ProductJob, canvas: CanvasJob, number: int,
          repair: str | None) -> Attempt:
    return Attempt(number=number, repair=repair, layout=canvas.need("layout", job.sku).key,
                   text=canvas.need("text", job.sku).key,
                   results=evaluate(measures_of(job, canvas), cfg.quality, canvas.platform))


def gate_canvas(cfg: RunConfig, job: ProductJob, canvas: CanvasJob,
                repairs: list[Repair]) -> CanvasJob:
    # 1. The canvas as the stages made it
    made = [canvas]
    attempts = [judge(cfg, job, canvas, 1, None)]
    # 2. Repairs, while it fails a gate one of them can fix (none when gates only record)
    untried = list(repairs) if cfg.quality.enforce else []
    while not attempts[-1].passed and len(attempts) < cfg.quality.max_attempts:
        failing = {result.gate for result in attempts[-1].failed}
        repair = next((r for r in untried if r.fixes & failing), None)
        if repair is None:
            break
        untried.remove(repair)
        made.append(repaired(cfg, job, canvas, repair))
        attempts.append(judge(cfg, job, made[-1], len(attempts) + 1, repair.name))
    # 3. Keep the first passing rendering, else the least failing (the earliest of those)
    kept = min(range(len(attempts)), key=lambda i: (len(attempts[i].failed), i))
    record = GateRecord(attempts=attempts, kept=kept, enforced=cfg.quality.enforce)
    return made[kept].model_copy(update={"gate": record})


def repaired(cfg: RunConfig, job: ProductJob, canvas: CanvasJob, repair: Repair) -> CanvasJob:
    """The canvas laid out and lettered again by the repair's backends, on a new
    backdrop when the repair brings a generator (each a cached stage: a repair made once
    is not made again)."""
    if repair.generator is not None:
        canvas = on_another_backdrop(cfg, job, canvas, repair.generator, repair.seed_step)
    fresh = canvas.model_copy(update={"layout": None, "text": None, "gate": None})
    laid = layout_canvas(cfg, job, fresh, repair.analyzer)
    return text_canvas(cfg, job, laid, {"edit": repair.renderer, "typeset": repair.renderer})


def on_another_backdrop(cfg: RunConfig, job: ProductJob, canvas: CanvasJob, generator: Any,
                        seed_step: int) -> CanvasJob:
    """The canvas's backdrop made again from the row's seed moved by `seed_step` (the
    same prompt, style and size), and the product composed on it again."""
    seed = (job.row.seed + seed_step) % SEEDS
    moved = job.model_copy(update={"row": job.row.model_copy(update={"seed": seed})})
    fresh = canvas.model_copy(update={"background": None, "composite": None,
                                      "layout": None, "text": None, "gate": None})
    plan = plan_backdrop(cfg, moved, fresh, generator)
    return composite_canvas(cfg, job, store_backdrop(cfg, fresh, generator, plan, None))


def cut_out_again(cfg: RunConfig, job: ProductJob, segmenter: Any, repair: Repair
                  ) -> ProductJob:
    """A product held for its unsure cutout, cut out by the other segmenter, every canvas
    composed on that cutout again and laid out and lettered by `repair`, then judged:
    the new cutout is kept when its canvases fail fewer gates. Either way each canvas
    records the attempt."""
    if not _unsure(cfg, job):
        return job
    # 1. The other segmenter's cutout (a cached stage of its own)
    recut = segment_products(cfg, [job.model_copy(update={"cutout": None})], segmenter)[0]
    if isinstance(recut, TransientError):
        raise recut  # the store or the database: the batch is retried
    if isinstance(recut, Exception):  # no cutout from it either: it waits for review
        return job
    # 2. Every canvas again on it, judged as one more attempt
    name = f"{segmenter.name} segmenter, {repair.name}"
    remade = {platform: _on_cutout(cfg, recut, canvas, repair)
              for platform, canvas in job.canvases.items()}
    tried = {platform: judge(cfg, recut, remade[platform],
                             len(canvas.gate.attempts) + 1 if canvas.gate else 1, name)
             for platform, canvas in job.canvases.items()}
    # 3. The product with the cutout whose canvases fail fewer gates
    better = sum(len(a.failed) for a in tried.values()) < sum(
        len(canvas.gate.chosen.failed) for canvas in job.canvases.values() if canvas.gate)
    canvases = {platform: _with_attempt(canvas, remade[platform], tried[platform], better)
                for platform, canvas in job.canvases.items()}
    return (recut if better else job).model_copy(update={"canvases": canvases})


def _unsure(cfg: RunConfig, job: ProductJob) -> bool:
    """Whether the gates hold the product for its cutout, with an attempt left."""
    gates = [canvas.gate for canvas in job.canvases.values()]
    if not cfg.quality.enforce or not gates:
        return False
    return all(gate is not None and len(gate.attempts) < cfg.quality.max_attempts
               and "segment_confidence" in {result.gate for result in gate.chosen.failed}
               for gate in gates)


def _on_cutout(cfg: RunConfig, job: ProductJob, canvas: CanvasJob, repair: Repair
               ) -> CanvasJob:
    fresh = canvas.model_copy(update={"composite": None, "layout": None, "text": None,
                                      "gate": None})
    laid = layout_canvas(cfg, job, composite_canvas(cfg, job, fresh), repair.analyzer)
    return text_canvas(cfg, job, laid, {"edit": repair.renderer, "typeset": repair.renderer})


def _with_attempt(canvas: CanvasJob, remade: CanvasJob, tried: Attempt,
                  keep: bool) -> CanvasJob:
    """The canvas with the attempt added to its record; the remade one when kept."""
    assert canvas.gate is not None  # _unsure checked every canvas has a record
    attempts = [*canvas.gate.attempts, tried]
    if keep:
        record = canvas.gate.model_copy(update={"attempts": attempts,
                                                "kept": len(attempts) - 1})
        return remade.model_copy(update={"gate": record})
    return canvas.model_copy(update={"gate": canvas.gate.model_copy(
        update={"attempts": attempts})})
