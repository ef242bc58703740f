"""`adforge serve`, `adforge server up|down|status`, `adforge deploy`: AdForge as a service."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from adforge.settings import Settings
from adforge_app import service
from adforge_app.prefect_env import configure_prefect_environment
from deployments import ENTRYPOINT_ROOT, PREFECT_FILE, deployment_specs

console = Console()
server_app = typer.Typer(no_args_is_help=True,
                         help="A local Prefect server with the UI, and one worker per pool.")

StateOpt = Annotated[Path | None, typer.Option(
    "--state-dir", help="pids, logs and the server's SQLite (default <ADFORGE_HOME>/service)")]


def _state(state_dir: Path | None) -> service.ServiceState:
    return service.ServiceState(state_dir) if state_dir else service.state_under(Settings().home)


@server_app.command("up")
def server_up(
    state_dir: StateOpt = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: a free one)")] = 4200,
    gpu_workers: Annotated[int, typer.Option(help="workers on adforge-gpu")] = 1,
    cpu_workers: Annotated[int, typer.Option(help="workers on adforge-cpu")] = 1,
    worker_limit: Annotated[int | None, typer.Option(
        help="flow runs one worker runs at once (default: no limit)")] = None,
) -> None:
    """Start the Prefect server (SQLite, UI on) and the workers; print the UI address."""
    state = _state(state_dir)
    if service.status(state)["healthy"]:
        console.print(f"already running: {state.api_url()}")
        return
    api_url = service.start_server(state, host, port or service.free_port(host))
    for pool, count in (("adforge-gpu", gpu_workers), ("adforge-cpu", cpu_workers)):
        for i in range(1, count + 1):
            service.start_worker(state, api_url, pool, f"{pool}-worker-{i}", worker_limit)
    service.wait_for_pools(api_url)
    console.print(f"Prefect UI:  {api_url.removesuffix('/api')}")
    console.print(f"API:         {api_url}   (export PREFECT_API_URL={api_url})")
    console.print(f"logs, pids:  {state.folder}/   next: adforge deploy")
    if state_dir is None:  # where `adforge run` and `demo` look for it
        console.print("`adforge run` and `adforge demo` use this server while it runs "
                      "(--local: a temporary one)", soft_wrap=True)


@server_app.command("down")
def server_down(state_dir: StateOpt = None) -> None:
    """Stop the workers and the server started by `adforge server up`."""
    stopped = service.stop_all(_state(state_dir))
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@server_app.command("status")
def server_status(state_dir: StateOpt = None) -> None:
    """Show the server's address and health, and which workers are alive."""
    report = service.status(_state(state_dir))
    print(json.dumps(report))
    if not report["healthy"]:
        raise typer.Exit(1)


def _api_url(api_url: str | None, state_dir: Path | None) -> str:
    url = api_url or os.environ.get("PREFECT_API_URL") or _state(state_dir).api_url()
    if not url:
        console.print("[red]no Prefect server[/red]: run `adforge server up`, or pass "
                      "--api-url / set PREFECT_API_URL")
        raise typer.Exit(2)
    return url


def deploy(
    api_url: Annotated[str | None, typer.Option(help="default: PREFECT_API_URL, or the "
                                                     "server of `adforge server up`")] = None,
    state_dir: StateOpt = None,
) -> None:
    """Apply deployments/prefect.yaml (every deployment) to the current server."""
    env = os.environ | {"PREFECT_API_URL": _api_url(api_url, state_dir),
                        "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    argv = [service.prefect_bin(), "--no-prompt", "deploy", "--all",
            "--prefect-file", str(PREFECT_FILE)]
    done = subprocess.run(argv, cwd=ENTRYPOINT_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        console.print(done.stdout[-4000:], done.stderr[-4000:])
        raise typer.Exit(done.returncode)
    names = ", ".join(d["name"] for d in deployment_specs())
    console.print(f"deployed {names} to {env['PREFECT_API_URL']}")


def serve() -> None:
    """Serve every deployment of prefect.yaml in this process (no server or worker needed)."""
    configure_prefect_environment()
    from deployments.serve import serve_all

    serve_all(lambda count: console.print(f"serving {count} deployments; Ctrl-C stops"))


def register(app: typer.Typer) -> None:
    """Add the service commands to the `adforge` command."""
    app.command()(serve)
    app.command()(deploy)
    app.add_typer(server_app, name="server")
