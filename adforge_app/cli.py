"""The `adforge` command line. Flows are imported inside the commands that run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adforge import progress
from adforge.errors import AdForgeError, InputError
from adforge.settings import load_settings
from adforge_app.cli_delivery import register as register_delivery_command
from adforge_app.cli_export import register as register_export_command
from adforge_app.cli_models import models_app
from adforge_app.cli_options import DbOpt
from adforge_app.cli_review import exit_code, print_in_review
from adforge_app.cli_review import register as register_review_commands
from adforge_app.cli_select import register as register_select_command
from adforge_app.cli_service import register as register_service_commands
from adforge_app.cli_stats import register as register_stats_command
from adforge_app.prefect_env import (
    configure_prefect_environment,
    use_server,
    uses_local_server,
)
from adforge_app.service import running_server_url
from adforge_app.shell import (
    ShellGroup,
    database_in_environment,
    debug_option,
    stop_on_ctrl_c,
)

# ShellGroup: AdForge's errors end a command in a few lines, exit 2 for bad input
app = typer.Typer(add_completion=False, no_args_is_help=True, cls=ShellGroup,
                  help="AdForge: product photos + a brand kit -> platform-ready ads.")
app.callback()(debug_option)  # adforge --debug ...: tracebacks too
console = Console()
register_service_commands(app)  # serve, deploy, server up|down|status
app.add_typer(models_app, name="models")  # make-tiny, pull, plan
register_review_commands(app)  # review, approve, reject
register_delivery_command(app)  # deliver
register_export_command(app)  # export
register_stats_command(app)  # stats
register_select_command(app)  # select

PlatformsOpt = Annotated[str | None, typer.Option(
    "--platforms", help="comma-separated presets or WxH sizes (default: all six)")]
LocalOpt = Annotated[bool, typer.Option(
    "--local", help="Prefect's temporary server, even when `adforge server up` runs")]


def _split(platforms: str | None) -> list[str] | None:
    return [p.strip() for p in platforms.split(",") if p.strip()] if platforms else None


def _choose_prefect_server(local: bool) -> None:
    """`--local`: Prefect's temporary server. Otherwise PREFECT_API_URL when it is set,
    else the server of `adforge server up` when it answers: a run then starts in seconds,
    where the temporary server takes 15-25. Only Prefect's API is shared; the tracking
    database, store and outputs stay this command's own."""
    if local:
        use_server(None)
        return
    if not uses_local_server():
        return
    api_url = running_server_url(load_settings().home)
    if api_url and use_server(api_url):
        console.print(f"Using the AdForge server at {api_url.removesuffix('/api')} (started by "
                      "`adforge server up`; --local for a temporary one)", soft_wrap=True)


def _run_flow(*, local: bool = False, **params: Any) -> dict[str, Any]:
    """Run the campaign flow in-process with a live progress display."""
    _choose_prefect_server(local)
    configure_prefect_environment()
    if uses_local_server():
        console.print("[dim]Starting Prefect's local server (about 15-25 s the first time; "
                      "`adforge server up` once, and runs start in seconds)...[/dim]")
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.brand_content import brand_content, outcome_of

    workers: Any = ThreadPoolTaskRunner(max_workers=load_settings().workers)

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[note]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task_id = bar.add_task("campaign", total=7, note="")

        def show(event: progress.ProgressEvent) -> None:
            bar.update(task_id, completed=event.done, total=event.total,
                       description=f"{event.stage:<11}", note=event.message)

        unsubscribe = progress.subscribe(show)
        try:
            with stop_on_ctrl_c():  # Ctrl-C: the run marked interrupted, out in seconds
                return outcome_of(brand_content.with_options(task_runner=workers)(
                    **params, return_state=True))
        finally:
            unsubscribe()


def _print_result(result: dict[str, Any]) -> None:
    style = "green" if result["status"] == "completed" else "yellow"
    console.print(f"[{style}]run {result['run_id']}: {result['status']}[/{style}] - "
                  f"{result['products']} products published to {result['out_dir']}")
    console.print(f"report: {result['report']}")
    if result.get("report_url"):
        console.print(f"report in S3 (presigned link): {result['report_url']}", soft_wrap=True)
    for sku, reason in result["failed"].items():
        console.print(f"[red]failed {sku}[/red]: {reason}")


def _print_drafts(result: dict[str, Any]) -> None:
    style = "green" if result["status"] == "completed" else "yellow"
    console.print(f"[{style}]run {result['run_id']}: {len(result['drafts'])} draft(s)"
                  f"[/{style}] - draft sheet: {result['draft_sheet']}")
    for item in result["drafts"]:
        console.print(f"  {item['sku']} {item['variant']}  score {item['score']:.2f}")
    for sku, reason in result["failed"].items():
        console.print(f"[red]failed {sku}[/red]: {reason}")


@app.command()
def run(
    brief: Annotated[str, typer.Argument(
        help="CSV, XLSX, Parquet or JSON Lines brief: a path or an s3://bucket/key URI")],
    brand: Annotated[str | None, typer.Option(help="brand kit YAML: path or s3:// URI")] = None,
    profile: Annotated[str | None, typer.Option(help="classic (default)")] = None,
    platforms: PlatformsOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    db: DbOpt = None,
    store: Annotated[str | None, typer.Option(
        help="asset store: a folder or s3://bucket/prefix")] = None,
    local: LocalOpt = False,
    variants: Annotated[int, typer.Option(
        help="backdrop variants of a row without a `variants` cell")] = 1,
    draft: Annotated[bool, typer.Option(
        "--draft", help="draft every variant on the preview platform, then stop")] = False,
    preview: Annotated[str, typer.Option(help="the drafts' platform")] = "instagram_post",
    select: Annotated[str, typer.Option(
        "--select", help="auto: keep the best drafts; manual: pause for a person "
                         "(`adforge select` or the Prefect UI)")] = "auto",
    keep: Annotated[int, typer.Option(help="drafts kept per copy variant (auto)")] = 1,
) -> None:
    """Render every product of BRIEF for every platform (products with variants: drafts
    first, then the kept ones)."""
    if select not in ("auto", "manual"):
        raise InputError(f"--select {select!r}: use auto or manual", field="--select")
    with database_in_environment(db):  # a secret: never a flow parameter
        result = _run_flow(brief=brief, brand=brand, profile=profile,
                           platforms=_split(platforms), out_dir=str(out) if out else None,
                           store=store, local=local, variants=variants, draft=draft,
                           preview=preview, selection=select, keep=keep)
    if draft:
        _print_drafts(result)
        raise typer.Exit(exit_code(result))
    _print_result(result)
    print_in_review(result)
    raise typer.Exit(exit_code(result))  # 0 all published, 1 failed, 3 partial or in review


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    db: DbOpt = None,
    local: LocalOpt = False,
) -> None:
    """Run the campaign flow on the built-in sample products, brief and brand kit."""
    from adforge.demo import write_demo_inputs

    settings = load_settings()
    inputs = settings.home / "demo"
    console.print(f"Writing the sample products, brief and brand kit to {inputs}/ ...")
    brief, brand = write_demo_inputs(inputs)
    with database_in_environment(db):  # a secret: never a flow parameter
        result = _run_flow(brief=str(brief), brand=str(brand),
                           out_dir=str(out) if out else None, local=local)
    _print_result(result)
    console.print(f"contact sheet: {result['contact_sheet']}")
    print_in_review(result)
    raise typer.Exit(exit_code(result))


@app.command()
def report(
    run_id: Annotated[str | None, typer.Argument(help="run id (default: the latest)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    db: DbOpt = None,
) -> None:
    """Show what a run produced, from the tracking database."""
    from adforge.db import open_database
    from adforge.db import repository as repo
    from adforge.db.metrics import costed_summary
    from adforge.preflight import check_database_reachable, check_database_url

    settings = load_settings(db_url=db)
    url = settings.database_url()
    check_database_reachable(check_database_url(url))  # bad or down: a line, exit 2
    database = open_database(url)
    run_id = run_id or repo.latest_run_id(database)
    if run_id is None:
        console.print("[red]no runs yet[/red]: run `adforge demo` or `adforge run BRIEF`")
        raise typer.Exit(1)
    try:
        summary = costed_summary(database, run_id, settings.cost)  # + cost per product, run
    except AdForgeError as exc:  # an unknown run id
        raise InputError(f"{exc}; check the id (`adforge report` without one shows the "
                         "latest run)", item=run_id) from exc
    if as_json:
        print(json.dumps(summary, default=str, ensure_ascii=False))
        return
    table = Table(title=f"run {run_id} · {summary['status']} · "
                        f"${summary['cost']['usd']:.6f}")
    for column in ("sku", "status", "renditions", "cost $", "errors"):
        table.add_column(column)
    for product in summary["products"]:
        errors = "; ".join(e["message"][:80] for e in product["errors"])
        table.add_row(product["sku"], product["status"], str(len(product["renditions"])),
                      f"{product['cost']['usd']:.6f}", errors)
    console.print(table)


@app.command()
def samples(folder: Annotated[Path, typer.Argument(help="where to write them")]) -> None:
    """Write the sample product photos (with true masks), a brief and a brand kit."""
    from adforge.demo import write_demo_inputs

    brief, brand = write_demo_inputs(folder)
    console.print(f"wrote sample photos to {folder / 'photos'}, {brief} and {brand}")


@app.command()
def cutout(
    image: Annotated[Path, typer.Argument(help="product photo")],
    output: Annotated[Path, typer.Option("-o", "--output", help="RGBA PNG to write")],
    profile: Annotated[str | None, typer.Option(help="profile whose segmenter to use")] = None,
) -> None:
    """Cut the product out of one photo and write an RGBA PNG."""
    from adforge.imageio import load_image, save_png
    from adforge.preflight import check_output_folder
    from models.registry import backend

    settings = load_settings(profile=profile)
    check_output_folder(output.parent, fix="pass another -o")  # before the work
    loaded = load_image(image, name=str(image), **settings.images.decoding())  # exit 2 if bad
    segmenter = backend("segment", settings.stage_backends().segment, settings.run_models())
    result = segmenter.segment(loaded.rgb)
    save_png(result.rgba, output)
    for warning in result.warnings:
        console.print(f"[yellow]warning[/yellow]: {warning}")
    console.print(f"wrote {output} (confidence {result.confidence:.2f})")


if __name__ == "__main__":
    app()
