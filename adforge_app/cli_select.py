"""`adforge select RUN SKU=VARIANT[,VARIANT] ...`: answer a run paused for a selection.

    adforge select RUN [SKU=VARIANT[,VARIANT] ...] [--by NAME] [--db URL]

A campaign run with `selection: manual` pauses with a resume form (flows/select.py).
This command finds the run's Prefect flow run (the tracking database's `runs` row),
checks that it waits for a selection, and resumes it with the form's own answer: the
products named keep the variants named (ids such as `A-3f2c1a`, or labels such as `A`),
every other product keeps what the form proposes, its automatic pick. With no SKU named
the automatic pick stands for all. Who chose is `--by`, default the OS user.

The run's Prefect server is PREFECT_API_URL's, else that of `adforge server up` when it
answers, else Prefect's local server on the same PREFECT_HOME. Exit 2 for anything
that cannot be answered: an unknown run or product, a variant its product did not
draft, a run that is not paused for a selection.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from adforge.errors import AdForgeError, InputError
from adforge.settings import load_settings
from adforge_app.cli_options import DbOpt
from adforge_app.prefect_env import configure_prefect_environment, use_server, uses_local_server
from adforge_app.service import running_server_url

console = Console()

RunArg = Annotated[str, typer.Argument(help="run id (`adforge report` shows the latest)")]
PicksArg = Annotated[list[str] | None, typer.Argument(
    help="SKU=VARIANT[,VARIANT]: the variants a product keeps (ids or labels such as A); "
         "products not named keep their automatic pick", show_default=False,
    metavar="SKU=VARIANT[,VARIANT]")]
ByOpt = Annotated[str | None, typer.Option("--by", help="who chose (default: the OS user)")]


def register(app: typer.Typer) -> None:
    """Add `select` to the `adforge` command."""
    app.command("select")(select)


def select(run_id: RunArg, picks: PicksArg = None, by: ByOpt = None, db: DbOpt = None) -> None:
    """Resume a run paused for a selection, with the variants each product keeps."""
    from adforge.db import open_database
    from adforge.db.selections import flow_run_of
    from adforge.review import reviewer

    wanted = parse_picks(picks or [])
    settings = load_settings(db_url=db)
    flow_run_id = flow_run_of(open_database(settings.database_url()), run_id)
    reach_the_runs_server(settings.home)
    from flows.select import resume_input

    try:
        answer = resume_input(paused_form(run_id, flow_run_id), wanted, by or reviewer())
    except ValueError as error:
        raise InputError(f"run {run_id}: {error}", item=run_id) from None
    resume(run_id, flow_run_id, answer)
    for product in answer["products"]:
        how = "" if product["sku"] in wanted else " (automatic pick)"
        console.print(f"{product['sku']} keeps {', '.join(product['chosen'])}{how}")
    console.print(f"[green]run {run_id} resumed: selection by {answer['selected_by']}"
                  "[/green]")


def parse_picks(picks: list[str]) -> dict[str, list[str]]:
    """`SKU=A,B` arguments as {sku: [variants]}; a malformed one is refused."""
    wanted: dict[str, list[str]] = {}
    for pick in picks:
        sku, _, variants = pick.rpartition("=")
        chosen = [part.strip() for part in variants.split(",") if part.strip()]
        if not sku.strip() or not chosen:
            raise InputError(f"{pick!r} is not SKU=VARIANT[,VARIANT] (for example "
                             "SKU-1=A or SKU-1=A-3f2c1a,B-9c0d11)", item=pick)
        wanted[sku.strip()] = chosen
    return wanted


def reach_the_runs_server(home: Path) -> None:
    """Point Prefect at the server the paused run lives on, before Prefect is imported:
    PREFECT_API_URL when set, else `adforge server up`'s when it answers."""
    if uses_local_server():
        api_url = running_server_url(home)
        if api_url:
            use_server(api_url)
    configure_prefect_environment()


def paused_form(run_id: str, flow_run_id: str) -> list[dict[str, Any]]:
    """The products of the run's selection form, as the form proposes them; refused
    unless the flow run is paused for a selection."""
    from uuid import UUID

    import httpx
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.select import PAUSE_KEY

    with get_client(sync_client=True) as client:
        try:
            flow_run = client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            raise InputError(f"run {run_id}: its flow run {flow_run_id} is not on the "
                             f"Prefect server at {client.api_url}", item=run_id) from None
        except httpx.TransportError as error:
            raise AdForgeError(f"the Prefect server at {client.api_url} does not answer "
                               f"({error}); set PREFECT_API_URL to the run's server, or "
                               "`adforge server up`") from None
        state = flow_run.state
        if state is None or not state.is_paused():
            raise InputError(f"run {run_id} is not waiting for a selection: its flow run "
                             f"{flow_run.name} is {state.name if state else 'new'}",
                             item=run_id)
        keyset = state.state_details.run_input_keyset
        if state.state_details.pause_key != PAUSE_KEY or not keyset:
            raise InputError(f"run {run_id} is paused for '{state.state_details.pause_key}', "
                             "not for a selection", item=run_id)
        schema = json.loads(client.read_flow_run_input(flow_run.id, keyset["schema"]))
    return list(schema["properties"]["products"].get("default", []))


def resume(run_id: str, flow_run_id: str, answer: dict[str, Any]) -> None:
    """Resume the paused flow run with `answer` as its form's input."""
    from uuid import UUID

    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import resume_flow_run

    try:
        resume_flow_run(UUID(flow_run_id), run_input=answer)
    except FlowPauseTimeout:
        raise AdForgeError(f"run {run_id}: its pause timed out before the answer came "
                           "(it went on with the automatic pick)") from None
    except RuntimeError as error:  # NotPausedError too: answered meanwhile
        raise AdForgeError(f"run {run_id} could not be resumed: {error}") from None
