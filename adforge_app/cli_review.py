"""`adforge review | approve | reject`: the review queue from the command line, and the
exit code of a campaign run.

    adforge review [RUN] [--json] [--all]        what waits (every run's, or RUN's)
    adforge approve RUN SKU [--platform P] [--by NAME] [--reason WHY]
    adforge reject RUN SKU [--platform P] --reason WHY [--by NAME]

Approving publishes a held canvas exactly as a passing one (files, the S3 delivery
object, rows); both decisions are recorded with who (`--by`, default the OS user),
when and why. `adforge run` exits 0 when every product was published, 1 when none was
(and none waits for review), 3 when some failed or wait for review.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from adforge.settings import Settings, load_settings
from adforge_app.cli_options import DbOpt, StoreOpt

console = Console()
EXIT_CODES = {"completed": 0, "failed": 1, "partial": 3}
PAST = {"approve": "approved", "reject": "rejected"}

RunArg = Annotated[str, typer.Argument(help="run id (`adforge review` lists them)")]
SkuArg = Annotated[str, typer.Argument(help="the product's SKU")]
PlatformOpt = Annotated[str | None, typer.Option(
    "--platform", help="one canvas (default: every canvas of SKU waiting for review)")]
ByOpt = Annotated[str | None, typer.Option("--by", help="who decides (default: the OS user)")]


def register(app: typer.Typer) -> None:
    """Add review, approve and reject to the `adforge` command."""
    app.command("review")(review)
    app.command("approve")(approve)
    app.command("reject")(reject)


def exit_code(result: dict[str, Any]) -> int:
    """0: every product published; 1: the run failed; 3: partial, or some in review."""
    return EXIT_CODES.get(str(result.get("status")), 3)


def print_in_review(result: dict[str, Any]) -> None:
    """The products a quality gate held, and how to decide on them."""
    for sku, why in (result.get("in_review") or {}).items():
        console.print(f"[yellow]in review {sku}[/yellow]: {why}", soft_wrap=True)
    if result.get("in_review"):
        console.print(f"decide with `adforge review {result['run_id']}`, then "
                      "`adforge approve|reject RUN SKU`")


def review(
    run_id: Annotated[str | None, typer.Argument(help="run id (default: every run)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    everything: Annotated[bool, typer.Option("--all", help="decided items too")] = False,
    db: DbOpt = None,
) -> None:
    """List the canvases a quality gate held back, with their failing gates."""
    from adforge.db import open_database, reviews

    found = reviews.items(open_database(load_settings(db_url=db).database_url()),
                          run_id=run_id, status=None if everything else "pending")
    if as_json:
        print(json.dumps({"run_id": run_id, "items": found}, ensure_ascii=False))
        return
    table = Table(title=f"review queue{f' of run {run_id}' if run_id else ''}: "
                        f"{len(found)} item(s)")
    for column in ("run", "sku", "platform", "status", "failing gates", "picture"):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(item["run_id"], item["sku"], item["platform"], item["status"],
                      _gates(item), item["picture"])
    console.print(table)


def approve(run_id: RunArg, sku: SkuArg, platform: PlatformOpt = None, by: ByOpt = None,
            reason: Annotated[str | None, typer.Option(help="why (kept)")] = None,
            db: DbOpt = None, store: StoreOpt = None) -> None:
    """Publish a held canvas as it is: files, S3 delivery object, rows."""
    _decide("approve", run_id, sku, platform, by, reason, load_settings(db_url=db, store=store))


def reject(run_id: RunArg, sku: SkuArg,
           reason: Annotated[str, typer.Option(help="why it is not published (kept)")],
           platform: PlatformOpt = None, by: ByOpt = None, db: DbOpt = None,
           store: StoreOpt = None) -> None:
    """Drop a held canvas, with the reason recorded."""
    _decide("reject", run_id, sku, platform, by, reason, load_settings(db_url=db, store=store))


def _decide(action: str, run_id: str, sku: str, platform: str | None, by: str | None,
            reason: str | None, settings: Settings) -> None:
    """Apply one decision to the product's held canvases (one of them with --platform)."""
    from adforge import review as queue
    from adforge.db import open_database, reviews
    from adforge.errors import AdForgeError

    db_url = settings.database_url()
    try:
        waiting = reviews.items(open_database(db_url), run_id=run_id, sku=sku,
                                platform=platform, status=None if platform else "pending")
        if not waiting:
            raise AdForgeError(f"nothing of {sku}{f' {platform}' if platform else ''} is in "
                               f"the review queue of run {run_id}; `adforge review {run_id}` "
                               "lists what is")
        cfg, job = queue.load_held(settings.store_spec(), settings.s3, settings.home, db_url,
                                   run_id, sku)
        decide = queue.approve if action == "approve" else queue.reject
        for item in waiting:
            changed = decide(cfg, job, item["platform"], by=by or queue.reviewer(),
                             reason=reason)  # type: ignore[arg-type]
            verb = PAST[action] if changed else f"already {PAST[action]}"
            console.print(f"{sku} {item['platform']}: {verb}")
        counts = queue.settle(cfg, [sku])
    except AdForgeError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    console.print(f"run {run_id}: {counts.words()} ({counts.status})")


def _gates(item: dict[str, Any]) -> str:
    return ", ".join(f"{f['gate']} {f['value']:.3g} (threshold {f['threshold']:g})"
                     for f in item["failing"]) or "-"
