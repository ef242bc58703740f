"""`adforge export RUN`: a run's delivery manifest, the file an ad manager imports.

    adforge export RUN [--format csv|json] [-o FILE] [--db URL] [--store DIR|s3://bucket/prefix]

One row per published rendition (adforge.export): sku, variant, platform, size, a URL that
opens the file (presigned on an S3 store), the copy, seed, style, format, bytes, sha256
and the backends that made it. `-o FILE` writes the file atomically (a reader never sees
half of it), else it goes to stdout. Exit 2 for an unknown run, a format other than csv
or json, or a store that does not hold the run's records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from adforge.errors import InputError
from adforge.settings import load_settings
from adforge_app.cli_options import DbOpt, StoreOpt

console = Console(stderr=True, highlight=False)

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="csv or json")]
OutputOpt = Annotated[Path | None, typer.Option(
    "-o", "--output", help="file to write (atomically); default: stdout")]


def register(app: typer.Typer) -> None:
    """Add `export` to the `adforge` command."""
    app.command("export")(export)


def export(run_id: Annotated[str, typer.Argument(help="run id (`adforge report` shows it)")],
           export_format: FormatOpt = "csv", output: OutputOpt = None, db: DbOpt = None,
           store: StoreOpt = None) -> None:
    """Write the run's delivery manifest: a row per published rendition, with its URL."""
    from adforge import export as manifests
    from adforge.db import open_database
    from adforge.stagecache import store_for
    from adforge.storage import write_file_atomic

    chosen = manifests.export_format(export_format)  # bad input: before any work
    if output is not None:
        _check_output(output)
    settings = load_settings(db_url=db, store=store)
    assets = store_for(settings.store_spec(), settings.s3, settings.home)
    document = manifests.manifest(open_database(settings.database_url()), run_id, assets)
    data = manifests.encode(document, chosen)
    if output is None:
        typer.echo(data.decode(), nl=False)
        return
    write_file_atomic(output, data)
    console.print(f"run {run_id}: {len(document['rows'])} renditions -> {output}",
                  soft_wrap=True)


def _check_output(output: Path) -> None:
    """A file `-o` can write: in a folder that exists, not a folder itself."""
    if output.is_dir():
        raise InputError(f"{output} is a folder: name the file to write", field="--output")
    if not output.parent.is_dir():
        raise InputError(f"folder {output.parent} does not exist: create it first",
                         field="--output")
