"""Pipeline benchmark: products per minute through Prefect vs the same stages in a loop.

    python benchmarks/pipeline.py [--products 50] [--workers 2] [--repeats 3] [--json]
    python benchmarks/pipeline.py --start [--repeats 3] [--json]

Both sides run the same task bodies on the `classic` profile, stage-major, over the same
generated brief (six renditions per product), each into its own empty store and database
so neither can reuse the other's results, and both with `--workers` products in flight
(the flow through Prefect's thread-pool task runner, the loop through a plain
`ThreadPoolExecutor`). `overhead_ratio` = Prefect time / loop time. The local Prefect
server's start is measured apart (a first, empty flow run), and a short warm-up run
fills the font and lookup caches before either side is timed. The two sides alternate
`--repeats` times (loop, Prefect, loop, Prefect...) and the medians are reported, with
each repeat's own ratio, since a shared machine's load drifts.

`--start` measures something else, instead: how long `adforge run` of one product for one
platform takes end to end, as a user types it, with Prefect's temporary server
(`--local`, `start_s_local`) and with the server of `adforge server up` (started once
here, stopped after, its own start not counted: `start_s_server`); interleaved
`--repeats` times, medians.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from adforge_app.prefect_env import configure_prefect_environment

configure_prefect_environment()

from PIL import Image  # noqa: E402
from prefect import flow  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from adforge.brandkit import load_brand_kit  # noqa: E402
from adforge.brief import load_brief_lenient, write_brief  # noqa: E402
from adforge.demo import DEMO_BRAND, DEMO_COPY  # noqa: E402
from adforge.samples import SAMPLE_KINDS, render_sample  # noqa: E402
from adforge.settings import Settings  # noqa: E402
from adforge.stages import publish  # noqa: E402
from adforge.stages.job import ProductJob  # noqa: E402
from flows.brand_content import (  # noqa: E402
    brand_content,
    open_run,
    products_per_task,
)
from flows.stage_runs import ALL_STAGES  # noqa: E402


def write_brief_of(n: int, folder: Path) -> tuple[Path, Path]:
    import yaml

    (folder / "photos").mkdir(parents=True)
    rows = []
    kinds = [k for k in SAMPLE_KINDS if k in DEMO_COPY]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        rgb, _ = render_sample(kind, size=1024, seed=i, backdrop="graded" if i % 2 else "plain")
        Image.fromarray(rgb).save(folder / "photos" / f"p{i:03d}.png")
        rows.append({**DEMO_COPY[kind], "sku": f"SKU-{i:03d}", "image": f"photos/p{i:03d}.png"})
    brief = folder / "brief.csv"
    write_brief(rows, brief)
    brand = folder / "brand.yaml"
    brand.write_text(yaml.safe_dump(DEMO_BRAND, allow_unicode=True), encoding="utf-8")
    return brief, brand


def point_state_at(folder: Path) -> None:
    os.environ["ADFORGE_HOME"] = str(folder / "state")
    os.environ["ADFORGE_OUT_DIR"] = str(folder / "outputs")


def time_server_start() -> float:
    @flow(name="warm-up")
    def nothing() -> None:
        return None

    start = time.perf_counter()
    nothing()
    return time.perf_counter() - start


ADFORGE = [sys.executable, "-m", "adforge_app.cli"]
REPO = Path(__file__).resolve().parent.parent


def command_env(folder: Path) -> dict[str, str]:
    """A user's shell for one command: no PREFECT_API_URL, so `adforge run` picks the
    temporary server or the one `adforge server up` recorded under this ADFORGE_HOME.
    Each run gets its own database, store and outputs as options: none resumes another."""
    env = {k: v for k, v in os.environ.items()
           if k != "PREFECT_API_URL" and not k.startswith("ADFORGE_")}
    return env | {"ADFORGE_HOME": str(folder / "state"), "ADFORGE_OUT_DIR": str(folder / "out")}


def time_one_product_run(brief: Path, brand: Path, home: Path, folder: Path,
                         *options: str) -> float:
    """`adforge run` of one product for one platform, end to end; `home` holds the
    server's state, `folder` this run's database, store and outputs."""
    argv = [*ADFORGE, "run", str(brief), "--brand", str(brand), "--platforms", "instagram_post",
            "--db", f"sqlite:///{folder / 'adforge.db'}", "--store", str(folder / "assets"),
            "--out", str(folder / "out"), *options]
    start = time.perf_counter()
    done = subprocess.run(argv, env=command_env(home), cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):  # 3: held for review, still a whole run
        raise RuntimeError(f"adforge run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def time_start_modes(root: Path, repeats: int) -> dict[str, list[float]]:
    """One-product runs with the temporary server and with a running one, interleaved."""
    brief, brand = write_brief_of(1, root / "start-inputs")
    home = root / "start-home"
    server = [*ADFORGE, "server", "up", "--port", "0"]
    subprocess.run(server, env=command_env(home), cwd=REPO, check=True, capture_output=True)
    times: dict[str, list[float]] = {"local": [], "server": []}
    try:
        for repeat in range(repeats):
            for mode in times:
                options = ("--local",) if mode == "local" else ()
                times[mode].append(time_one_product_run(
                    brief, brand, home, root / f"start-{mode}-{repeat}", *options))
    finally:
        subprocess.run([*ADFORGE, "server", "down"], env=command_env(home), cwd=REPO,
                       capture_output=True)
    return times


def report_start(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="adforge-bench-start-") as tmp:
        times = time_start_modes(Path(tmp), args.repeats)
    results: dict[str, object] = {"repeats": args.repeats}
    for mode, values in times.items():
        results[f"start_s_{mode}"] = round(statistics.median(values), 2)
        results[f"start_s_{mode}_runs"] = [round(v, 2) for v in values]
    if args.json:
        print(json.dumps(results))
        return
    print("adforge run, 1 product x 1 platform, end to end (median of "
          f"{args.repeats}): temporary server vs `adforge server up`")
    for key, value in results.items():
        print(f"  {key:<30}{str(value):>24}")


def time_prefect(brief: Path, brand: Path, workers: int) -> float:
    runner = brand_content.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))
    start = time.perf_counter()
    result = runner(brief=str(brief), brand=str(brand))
    elapsed = time.perf_counter() - start
    assert result["status"] == "completed", result["failed"]
    return elapsed


def time_loop(brief: Path, brand: Path, workers: int) -> tuple[float, dict[str, list[float]]]:
    """The same task bodies (`task.fn`), stage-major, in a plain Python loop, one
    product per call."""
    per_stage: dict[str, list[float]] = defaultdict(list)
    pool = ThreadPoolExecutor(max_workers=workers)
    start = time.perf_counter()
    settings = Settings()
    kit = load_brand_kit(brand, cache_dir=settings.home / "cache" / "inputs", s3=settings.s3)
    parsed, _ = load_brief_lenient(brief, brand_styles=kit.style_names(), s3=settings.s3)
    cfg = open_run(settings, kit, parsed, str(brief))
    jobs = [ProductJob.for_platforms(row, settings.platforms) for row in parsed.rows]
    for name, stage in ALL_STAGES:

        def timed(job: ProductJob, stage=stage, name=name):  # noqa: ANN001, ANN202
            t0 = time.perf_counter()
            (result,) = stage.fn(cfg, [job])
            per_stage[name].append((time.perf_counter() - t0) * 1000.0)
            return result

        jobs = list(pool.map(timed, jobs))
    pool.shutdown()
    publish.write_contact_sheets(cfg, jobs, settings.platforms)
    publish.write_report(cfg)
    return time.perf_counter() - start, per_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2,
                        help="products in flight at once, on both sides")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs of each side, interleaved; medians are reported")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--start", action="store_true", help="instead: the start of a "
                        "one-product `adforge run`, temporary server vs a running one")
    args = parser.parse_args()
    if args.start:
        report_start(args)
        return

    with tempfile.TemporaryDirectory(prefix="adforge-bench-") as tmp:
        root = Path(tmp)
        brief, brand = write_brief_of(args.products, root / "inputs")
        server_start = time_server_start()
        warm_brief, _ = write_brief_of(2, root / "warm")
        point_state_at(root / "warm")
        time_loop(warm_brief, brand, args.workers)
        loop_times, prefect_times = [], []
        per_stage: dict[str, list[float]] = defaultdict(list)
        for repeat in range(args.repeats):  # interleaved, so drift hits both sides alike
            point_state_at(root / f"loop-{repeat}")
            loop_s, stage_ms = time_loop(brief, brand, args.workers)
            loop_times.append(loop_s)
            for stage, values in stage_ms.items():
                per_stage[stage].extend(values)
            point_state_at(root / f"prefect-{repeat}")
            prefect_times.append(time_prefect(brief, brand, args.workers))
    results = summarise(args, loop_times, prefect_times, per_stage, server_start)
    if args.json:
        print(json.dumps(results))
        return
    print(f"{args.products} products x 6 platforms, classic profile, {args.workers} in "
          f"flight, {results['products_per_task']} products per task run")
    for key in ("products_per_minute_prefect", "products_per_minute_loop", "overhead_ratio",
                "ratio_per_repeat", "server_start_s", "peak_rss_mb"):
        print(f"  {key:<30}{str(results[key]):>10}")
    print("  per-stage median ms per product (loop):")
    for stage, ms in results["stage_ms"].items():
        print(f"    {stage:<28}{ms:>10}")


def summarise(args: argparse.Namespace, loop_times: list[float], prefect_times: list[float],
              per_stage: dict[str, list[float]], server_start: float) -> dict:
    """The run's numbers: medians of both sides, their ratio, this process's peak."""
    # The peak of this process, which ran this size only (warm-up, both sides, every
    # repeat: one size per command); the Prefect server is a process of its own.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    n = args.products
    loop_s, prefect_s = statistics.median(loop_times), statistics.median(prefect_times)
    return {
        "products": n,
        "workers": args.workers,
        "products_per_task": products_per_task(Settings().scale.products_per_task, n),
        "repeats": args.repeats,
        "products_per_minute_prefect": round(60.0 * n / prefect_s, 1),
        "products_per_minute_loop": round(60.0 * n / loop_s, 1),
        "overhead_ratio": round(prefect_s / loop_s, 3),
        "ratio_per_repeat": [round(p / lo, 3) for p, lo in zip(prefect_times, loop_times,
                                                                strict=True)],
        "server_start_s": round(server_start, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "stage_ms": {k: round(statistics.median(v), 1) for k, v in per_stage.items()},
    }


if __name__ == "__main__":
    sys.exit(main())
