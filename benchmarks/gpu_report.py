"""The full-size benchmark's report: one JSON object, or a table.

Per stage and recipe (a product: its photo's segmentation and all its canvases): seconds
of compute per product, the ratio to the stage's compute floor, peak device memory,
load + unload seconds per product (AdForge's amortised over its batch) as a share of the
compute, and the total per product; per stage, the naive recipe's total over AdForge's
(the speed-up). A recipe that ran out of memory has its
message instead of numbers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from benchmarks.gpu_stages import RecipeRun, StageRun


def recipe_row(run: RecipeRun, floor_s: float) -> dict[str, Any]:
    row: dict[str, Any] = {"recipe": run.recipe, "placement": run.placement,
                           "products": run.products, "canvases": run.canvases,
                           "peak_gib": run.peak_gib, "error": run.error}
    if run.error:
        return row | dict.fromkeys(("seconds_per_product", "ratio_to_floor", "load_s",
                                    "unload_s", "load_unload_s_per_product",
                                    "load_unload_pct_of_compute", "total_s_per_product"))
    compute = run.compute_s / run.products
    load_unload = (run.load_s + run.unload_s) / run.products
    return row | {"seconds_per_product": compute, "ratio_to_floor": compute / floor_s,
                  "load_s": run.load_s, "unload_s": run.unload_s,
                  "load_unload_s_per_product": load_unload,
                  "load_unload_pct_of_compute": 100.0 * load_unload / compute,
                  "total_s_per_product": compute + load_unload}


def speedup(adforge: dict[str, Any], naive: dict[str, Any] | None) -> float | None:
    if naive is None or adforge["error"] or naive["error"]:
        return None
    return naive["total_s_per_product"] / adforge["total_s_per_product"]


def stage_row(floor: Any, run: StageRun) -> dict[str, Any]:
    adforge = recipe_row(run.adforge, floor.floor_s)
    naive = recipe_row(run.naive, floor.floor_s) if run.naive else None
    return asdict(floor) | {"weights_gb": run.weights_gb,
                            "weights_made_s": run.weights_made_s, "adforge": adforge,
                            "naive": naive, "speedup": speedup(adforge, naive)}


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums per product over the stages; the speed-up over the stages both recipes ran."""
    compared = [row for row in rows if row["speedup"] is not None]
    adforge_ok = all(not row["adforge"]["error"] for row in rows)
    naive_ok = all(row["naive"] and not row["naive"]["error"] for row in rows)
    return {
        "floor_s_per_product": sum(row["floor_s"] for row in rows),
        "adforge_s_per_product": sum(row["adforge"]["total_s_per_product"] for row in rows)
        if adforge_ok else None,
        "naive_s_per_product": sum(row["naive"]["total_s_per_product"] for row in rows)
        if naive_ok else None,
        "speedup": sum(row["naive"]["total_s_per_product"] for row in compared)
        / sum(row["adforge"]["total_s_per_product"] for row in compared)
        if compared else None,
        "speedup_stages": [row["stage"] for row in compared],
    }


# -- the table ---------------------------------------------------------------------------

def _number(value: float | None, digits: int = 3, width: int = 10) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


COLUMNS = ("s/product", "floor s", "x floor", "peak GiB", "ld+unld s", "% comp")


def _recipe_line(label: str, recipe: dict[str, Any], floor: str) -> str:
    head = f"  {label:<11} {recipe['recipe']:<8} {recipe['placement'] or '-':<14}"
    if recipe["error"]:
        return f"{head}{'':>10}{floor}  {recipe['error']} (peak " \
               f"{_number(recipe['peak_gib'], 2, 0)} GiB)"
    return (f"{head}{_number(recipe['seconds_per_product'])}{floor}"
            f"{_number(recipe['ratio_to_floor'], 1)}{_number(recipe['peak_gib'], 2)}"
            f"{_number(recipe['load_unload_s_per_product'])}"
            f"{_number(recipe['load_unload_pct_of_compute'], 1)}")


def print_table(report: dict[str, Any]) -> None:
    cap = f"memory capped at {report['cap_gib']:g} GiB" if report["cap_gib"] else "no cap"
    cfg = report["edit_true_cfg_scale"]
    edit = f"{report['edit_steps']} steps, " + (f"true CFG {cfg:g}" if cfg > 1 else "CFG off")
    print(f"AdForge's plan vs the naive recipe: {report['scale']} scale on {report['device']}, "
          f"FLUX.1-{report['flux']}, Qwen-Image-Edit {report['edit_recipe']} recipe ({edit}), "
          f"{cap}")
    print(f"  per product: a {report['size']}x{report['size']} photo, "
          f"{len(report['platforms'])} canvases ({', '.join(report['platforms'])})")
    print(f"  AdForge: batch of {report['batch']}, each model loaded once (stage-major) in "
          "the residency manager's placement")
    print(f"  naive: {report['naive_products']} product(s), {report['dtype']} pipelines with "
          "enable_model_cpu_offload, each model loaded and unloaded around every product")
    print(f"  {'stage':<11} {'recipe':<8} {'placement':<14}"
          + "".join(f"{column:>10}" for column in COLUMNS))
    for row in report["stages"]:
        floor = _number(row["floor_s"])
        print(_recipe_line(row["stage"], row["adforge"], floor))
        if row["naive"]:
            speed = f"   speed-up x{row['speedup']:.1f}" if row["speedup"] else ""
            print(_recipe_line("", row["naive"], " " * 10) + speed)
    print("  (s/product: compute per product; ld+unld s: load + unload per product, "
          "AdForge's amortised over its batch; % comp: that as a share of the compute)")
    total = report["totals"]
    print(f"  all stages, per product with load + unload: AdForge "
          f"{_number(total['adforge_s_per_product'], 3, 0)} s, naive "
          f"{_number(total['naive_s_per_product'], 3, 0)} s, floor "
          f"{total['floor_s_per_product']:.3f} s")
    if total["speedup"]:
        print(f"  speed-up vs naive: x{total['speedup']:.2f} over "
              f"{', '.join(total['speedup_stages'])}")
    for note in report["notes"]:
        print(f"  note: {note}")
