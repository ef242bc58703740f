"""Which drafted variants go on to the final pass: the automatic pick, or a person's.

`selection: auto` keeps each product's `keep` best-scoring drafts (adforge.variants).
`selection: manual` pauses the campaign run (`pause_flow_run(wait_for_input=...)`): its
page shows the draft sheet (`draft-sheet`) and every variant with its score and the
score's terms (`draft-variants`), and the Prefect UI's resume form lists each product
with its variants in words and the ids to keep, proposed as the automatic pick, so
resuming without an edit keeps that pick. `adforge select RUN SKU=VARIANT ...` fills the
same form from the shell (`resume_input`). A choice that names no drafted variant of its
product is logged and that product keeps its automatic pick; nobody answering within
the timeout keeps the automatic pick for every product ("auto (timeout)"). Whoever
chose, every drafted variant's row is recorded (adforge.db.selections).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.artifacts import create_table_artifact
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import BaseModel, Field

from adforge.db.selections import record_selection
from adforge.stagecache import RunConfig, database
from adforge.variants import AUTO, Selection, VariantScore, auto_selection, parse_choice
from flows.artifacts import show_sheet
from flows.review import POLL_S, resume_after_timeout
from tasks.common import run_logger

PAUSE_KEY = "select"  # the pause's key: its form's inputs are `paused-select-...`
UI_SELECTOR = "prefect-ui"  # who chose, when the form's name field is left empty
TIMED_OUT = f"{AUTO} (timeout)"  # who chose, when nobody answered in time
TERM_WORDS = {"min_contrast": "contrast", "text_product_overlap": "clean area",
              "delta_e": "colour", "segment_confidence": "cutout"}


class ProductChoice(BaseModel):
    """One product of the form: its drafted variants, and which of them to keep."""

    sku: str = Field(title="SKU")
    variants: str = Field(
        default="", title="Drafted variants",
        description="one line per variant, best first: its id, its draft score (0 to 1) "
                    "and the score's terms")
    chosen: list[str] = Field(
        default_factory=list, title="Keep",
        description="the ids (or labels, such as A) of the variants to render in full; "
                    "as proposed: the automatic pick")


class VariantChoices(RunInput):
    """The resume form of a run that waits for a selection."""

    selected_by: str = Field(default="", title="Selected by",
                             description="your name, kept with the selection")
    products: list[ProductChoice] = Field(default_factory=list, title="Products")


def choose_variants(cfg: RunConfig, scores: list[VariantScore], keep: int, selection: str,
                    timeout_s: int, sheet: Path | None) -> Selection:
    """The variants each product keeps for the final pass, recorded with who chose:
    `selection` "auto" (the best `keep` by score) or "manual" (a person, in the Prefect
    UI or with `adforge select`, within `timeout_s` seconds; the draft sheet `sheet`
    shown meanwhile)."""
    if selection not in (AUTO, "manual"):
        raise ValueError(f"selection {selection!r} is not one of auto, manual")
    # 1. The automatic pick: the answer for `auto`, the proposal for a person
    proposed = auto_selection(scores, keep)
    chosen = proposed
    if selection == "manual" and has_a_choice(scores):
        # 2. What the person looks at: the draft sheet, every variant and its score
        show_draft_artifacts(cfg, scores, proposed, sheet)
        # 3. Wait for the answer (timeout: the automatic pick)
        answer = wait_for_choices(cfg, scores, proposed, timeout_s)
        # 4. The answer, product by product (a choice that names nothing: the auto pick)
        if answer is not None:
            chosen = Selection(kept=answered_keys(answer, scores, proposed),
                               by=answer.selected_by.strip() or UI_SELECTOR)
        else:
            chosen = Selection(kept=proposed.kept, by=TIMED_OUT)
    # 5. Recorded, whoever chose
    record_selection(database(cfg.db_url), cfg.run_id, scores, chosen)
    run_logger(__name__).info("selection by %s: %s", chosen.by, "; ".join(
        f"{sku} keeps {', '.join(keys)}" for sku, keys in sorted(chosen.kept.items())))
    return chosen


def has_a_choice(scores: list[VariantScore]) -> bool:
    """Whether any product has more than one draft; else there is nothing for a person
    to choose and the run does not pause."""
    return any(len(items) > 1 for items in ranked(scores).values())


def wait_for_choices(cfg: RunConfig, scores: list[VariantScore], proposed: Selection,
                     timeout_s: int) -> Any | None:
    """Pause the run until its resume form is answered: the answer, or None when nobody
    answered within `timeout_s` (the run is set back to Running)."""
    form = VariantChoices.with_initial_data(
        description=form_description(cfg, scores, proposed),
        products=form_products(scores, proposed))
    logger = run_logger(__name__)
    logger.info("%d product(s) wait for a selection of their variants: resume this run "
                "with the choices, or `adforge select %s SKU=VARIANT ...`",
                len(proposed.kept), cfg.run_id)
    try:
        return pause_flow_run(wait_for_input=form, timeout=timeout_s,
                              poll_interval=min(POLL_S, timeout_s), key=PAUSE_KEY)
    except FlowPauseTimeout:
        logger.warning("no selection within %d s: every product keeps its automatic pick",
                       timeout_s)
        resume_after_timeout()
        return None


def answered_keys(answer: Any, scores: list[VariantScore],
                  proposed: Selection) -> dict[str, list[str]]:
    """The record keys each product keeps by the answer; a product the answer leaves
    out, or whose choice names no drafted variant of it, keeps its automatic pick."""
    kept = {sku: list(keys) for sku, keys in proposed.kept.items()}
    for product in answer.products:
        wanted = split_choices(product.chosen)
        try:
            if product.sku not in kept:
                raise ValueError(f"{product.sku} is not a drafted product of this run")
            if not wanted:
                raise ValueError(f"{product.sku}: no variant chosen; choose one or more")
            kept[product.sku] = list(dict.fromkeys(parse_choice(product.sku, wanted, scores)))
        except ValueError as error:
            run_logger(__name__).warning("%s; %s keeps its automatic pick", error,
                                         product.sku)
    return kept


def split_choices(chosen: list[str]) -> list[str]:
    """The ids a form entry names: entries trimmed, `A, B` in one entry split."""
    return [part.strip() for entry in chosen for part in entry.split(",") if part.strip()]


def ranked(scores: list[VariantScore]) -> dict[str, list[VariantScore]]:
    """Each product's drafts, best score first (ties: variant id), products by SKU."""
    by_sku: dict[str, list[VariantScore]] = {}
    for item in sorted(scores, key=lambda s: (s.sku, -s.score, s.variant)):
        by_sku.setdefault(item.sku, []).append(item)
    return by_sku


def terms_in_words(terms: dict[str, float]) -> str:
    return " + ".join(f"{TERM_WORDS.get(name, name)} {value:.2f}"
                      for name, value in terms.items())


def variant_line(item: VariantScore, proposed: set[str]) -> str:
    """`A-3f2c1a  score 0.82 = contrast 0.35 + ...  (automatic pick)`: the id first."""
    pick = "  (automatic pick)" if item.key in proposed else ""
    return f"{item.variant}  score {item.score:.2f} = {terms_in_words(item.terms)}{pick}"


def form_products(scores: list[VariantScore], proposed: Selection) -> list[ProductChoice]:
    """The form's entries: each product's variants in words, its automatic pick chosen."""
    picked = proposed.keys()
    return [ProductChoice(sku=sku, variants="\n".join(variant_line(i, picked) for i in items),
                          chosen=[i.variant for i in items if i.key in picked])
            for sku, items in ranked(scores).items()]


def form_description(cfg: RunConfig, scores: list[VariantScore], proposed: Selection) -> str:
    """The markdown above the resume form: what to do, and each product's variants
    with their scores, best first, the automatic pick in bold."""
    picked = proposed.keys()
    lines = [f"**Choose the variants of run `{cfg.run_id}` to render in full.** The "
             "`draft-sheet` artifact shows every draft. `Keep` proposes each product's "
             "automatic pick (in bold): resume as it is to keep it, or name other variant "
             "ids (or labels such as `A`), one or more per product.", ""]
    lines += [f"- `{sku}`: " + ", ".join(
        (f"**{i.variant} {i.score:.2f}**" if i.key in picked else f"{i.variant} {i.score:.2f}")
        for i in items) for sku, items in ranked(scores).items()]
    return "\n".join(lines)


def show_draft_artifacts(cfg: RunConfig, scores: list[VariantScore], proposed: Selection,
                         sheet: Path | None) -> None:
    """`draft-sheet` (the drafts as a picture, when there is one) and `draft-variants`
    (a table: every variant, its score and terms, the automatic pick marked)."""
    if sheet is not None and sheet.is_file():  # embedded: a draft uploads nothing
        show_sheet(cfg, [sheet], None, key="draft-sheet", products=len(proposed.kept),
                   title=f"run {cfg.run_id}: the drafted variants")
    picked = proposed.keys()
    rows = [{"sku": item.sku, "variant": item.variant, "score": round(item.score, 4),
             "automatic pick": "yes" if item.key in picked else "",
             **{TERM_WORDS.get(name, name): value for name, value in item.terms.items()}}
            for items in ranked(scores).values() for item in items]
    create_table_artifact(rows, key="draft-variants",
                          description=f"run {cfg.run_id}: every drafted variant, its draft "
                                      "score (0 to 1) and the score's terms")


def resume_input(products: list[dict[str, Any]], picks: dict[str, list[str]],
                 by: str) -> dict[str, Any]:
    """The answer to a paused run's form from the shell: the form's own entries
    (`products`, as proposed), the named SKUs' `chosen` replaced by `picks`. A SKU or a
    variant the form does not list raises ValueError naming what it lists."""
    entries = {entry["sku"]: dict(entry) for entry in products}
    for sku, wanted in picks.items():
        if sku not in entries:
            raise ValueError(f"{sku} is not a product of this selection; choose among "
                             f"{', '.join(entries)}")
        ids = [line.split()[0] for line in entries[sku].get("variants", "").splitlines()
               if line.strip()]
        for want in wanted:
            if sum(want in (vid, vid.rsplit("-", 1)[0]) for vid in ids) != 1:
                raise ValueError(f"{sku}: variant '{want}' is not one of {', '.join(ids)}")
        entries[sku]["chosen"] = list(wanted)
    return {"selected_by": by, "products": list(entries.values())}
