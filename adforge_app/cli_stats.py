"""`adforge stats [--since 7d] [--json]`: what the runs cost, by profile.

Per profile: runs started in the window, their products, how many failed (and the
rate), the median seconds and the median cost of a product, and the total, at the
prices of `ADFORGE_COST__GPU_USD_PER_HOUR` and `ADFORGE_COST__CPU_USD_PER_HOUR`
(`adforge.db.stats`; README, "Cost and resources").
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from adforge.errors import InputError
from adforge.settings import load_settings
from adforge_app.cli_options import DbOpt

console = Console()
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="a window back from now (30m, 12h, 7d, 2w) or an ISO date; "
                    "default: every run")]


def register(app: typer.Typer) -> None:
    """Add `stats` to the `adforge` command."""
    app.command("stats")(stats)


def since_moment(text: str, now: dt.datetime) -> dt.datetime:
    """`7d` -> seven days before `now`; an ISO date or time (UTC unless it says) as is."""
    window = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text.lower())
    if window:
        return now - dt.timedelta(**{UNITS[window[2]]: int(window[1])})
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--since {text!r} is neither a window (30m, 12h, 7d, 2w) nor an "
                         "ISO date (2026-01-31)", field="since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def stats(
    since: SinceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    db: DbOpt = None,
) -> None:
    """Runs, products, failure rate, median seconds and cost per product, by profile."""
    from adforge.db import open_database
    from adforge.db.stats import campaign_stats
    from adforge.preflight import check_database_reachable, check_database_url

    settings = load_settings(db_url=db)
    start = since_moment(since, dt.datetime.now(dt.UTC)) if since else None
    url = settings.database_url()
    check_database_reachable(check_database_url(url))  # bad or down: a line, exit 2
    result = campaign_stats(open_database(url), settings.cost, since=start)
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    console.print(_table(result))


def _table(result: dict[str, Any]) -> Table:
    window = f"since {result['since']}" if result["since"] else "every run"
    prices = result["prices"]
    table = Table(title=f"runs by profile, {window} (GPU ${prices['gpu_usd_per_hour']}/h, "
                        f"CPU ${prices['cpu_usd_per_hour']}/h)")
    for column in ("profile", "runs", "products", "failed", "failure rate",
                   "median s / product", "median $ / product", "total $"):
        table.add_column(column)
    for row in result["profiles"]:
        table.add_row(row["profile"], str(row["runs"]), str(row["products"]),
                      str(row["failed"]), f"{row['failure_rate']:.1%}",
                      _number(row["median_seconds_per_product"], ".2f"),
                      _number(row["median_usd_per_product"], ".6f"), f"{row['usd']:.6f}")
    return table


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)
