"""`adforge deliver RUN`: post a finished run's results to the results webhook again.

    adforge deliver RUN [--db URL] [--store DIR|s3://bucket/prefix]

The document, the signature and the retries are those of the run's own delivery
(adforge.delivery), with this shell's settings (`ADFORGE_DELIVERY__...`); each attempt
is recorded, and the run's report is written again so that it shows the outcome. Exit
0 when the receiver took the results, 1 when it did not, 2 when there is nothing to
send them to (no webhook set, an unknown run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from adforge.errors import InputError
from adforge.settings import load_settings
from adforge_app.cli_options import DbOpt, StoreOpt

if TYPE_CHECKING:
    from adforge.storage import AssetStore

console = Console()



def register(app: typer.Typer) -> None:
    """Add `deliver` to the `adforge` command."""
    app.command("deliver")(deliver)


def deliver(run_id: Annotated[str, typer.Argument(help="run id (`adforge report` shows it)")],
            db: DbOpt = None, store: StoreOpt = None) -> None:
    """Post the run's results to the results webhook again (signed, retried)."""
    from adforge import delivery
    from adforge.db import open_database, reviews
    from adforge.errors import AdForgeError
    from adforge.stagecache import store_for

    settings = load_settings(db_url=db, store=store)
    if settings.delivery.webhook_url is None:
        raise InputError("no results webhook is set: set ADFORGE_DELIVERY__WEBHOOK_URL (and "
                         "ADFORGE_DELIVERY__WEBHOOK_SECRET to sign the posts)",
                         field="ADFORGE_DELIVERY__WEBHOOK_URL")
    database = open_database(settings.database_url())
    try:
        reviews.counts(database, run_id)  # the run is there
    except AdForgeError as error:
        raise InputError(f"{error}; check the id (`adforge report` shows the latest run)",
                         item=run_id) from error
    assets = store_for(settings.store_spec(), settings.s3, settings.home)
    result = delivery.deliver(database, run_id, assets, settings.delivery)
    _rewrite_report(assets, run_id, settings.database_url())
    if result.failed:
        console.print(f"[red]run {run_id}: results webhook {result.words()}[/red]",
                      soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"[green]run {run_id}: results {result.words()}[/green]")


def _rewrite_report(assets: AssetStore, run_id: str, db_url: str) -> None:
    """The run's report again, showing this delivery (the uploaded copy too, while S3
    answers), where the run's config is in the store."""
    from adforge.errors import TransientError
    from adforge.stages import publish
    from adforge.storage import AssetNotFoundError

    try:
        cfg, _ = publish.load_run(assets, run_id, [], db_url)
    except (FileNotFoundError, AssetNotFoundError):
        return  # a run from another store: its report stays as it was
    publish.write_report(cfg)
    try:
        publish.upload_report(cfg)
    except TransientError:
        pass  # the local report is current; the uploaded one follows later
