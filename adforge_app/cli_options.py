"""The options several `adforge` commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

DbOpt = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the tracking DB")]
StoreOpt = Annotated[str | None, typer.Option(
    "--store", help="the run's asset store: a folder or s3://bucket/prefix")]
