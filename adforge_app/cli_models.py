"""`adforge models ...`: tiny checkpoints, downloads, and the memory plan."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

models_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Neural model weights: tiny checkpoints, downloads, memory plan.")
console = Console()
ProfileOpt = Annotated[str, typer.Option("--profile", help="gpu-24gb | gpu-80gb")]


@models_app.command("make-tiny")
def make_tiny(folder: Annotated[Path, typer.Argument(help="where to write them")]) -> None:
    """Build tiny random checkpoints of all four models (Hugging Face layout, offline)."""
    from models.tiny import make_tiny as build

    made = build(folder)
    console.print("# the tiny profile: ADFORGE_PROFILE=tiny with")
    console.print(f"ADFORGE_MODELS__TINY_ROOT={folder.resolve()}", soft_wrap=True)
    console.print("# or one model at a time, in any profile:")
    for key, path in made.items():
        console.print(f"ADFORGE_MODELS__{key.upper()}__SOURCE={path.resolve()}",
                      soft_wrap=True)


@models_app.command()
def plan(profile: ProfileOpt = "gpu-24gb") -> None:
    """Print where each model goes in the profile's memory budget."""
    from models.profiles import PROFILE_PLANS, memory_plan

    try:
        rows = memory_plan(profile)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    budget = PROFILE_PLANS[profile].budget_bytes / 1024 ** 3
    table = Table(title=f"{profile}: budget {budget:.0f} GiB, one stage's model at a time")
    for column in ("stage", "model", "weights GiB", "placement", "device GiB", "host GiB"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.stage, row.key, f"{row.weights_gib:.1f}", row.placement,
                      f"{row.device_gib:.1f}", f"{row.host_gib:.1f}")
    console.print(table)
    for row in rows:
        console.print(f"{row.key}: {row.source}", soft_wrap=True)


@models_app.command()
def pull(profile: ProfileOpt = "gpu-24gb") -> None:
    """Download the profile's weights into the Hugging Face cache (HF_HOME). With
    HF_HUB_OFFLINE=1 it only checks the cache and lists what is missing."""
    from models.profiles import MODELS, PROFILE_PLANS

    if profile not in PROFILE_PLANS:
        console.print(f"[red]no models for profile {profile!r}; use one of "
                      f"{', '.join(PROFILE_PLANS)}[/red]")
        raise typer.Exit(2)
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    needed = [entry for entry in MODELS if entry.key not in _answered_by_the_edit_model()]
    missing = [entry.source for entry in needed if not _fetch(entry.source, offline)]
    if missing:
        how = "HF_HUB_OFFLINE is set" if offline else "the download failed"
        console.print(f"[red]{len(missing)} model(s) missing ({how}):[/red]")
        for source in missing:
            console.print(f"  - {source}")
        console.print("Run `adforge models pull` with network access (HF_HUB_OFFLINE unset), "
                      "or set ADFORGE_MODELS__<KEY>__SOURCE to local folders.")
        raise typer.Exit(1)
    console.print(f"all {len(needed)} models of {profile} are in the cache")


def _answered_by_the_edit_model() -> set[str]:
    """Qwen2-VL is not needed when the layout stage uses Qwen-Image-Edit's encoder."""
    from adforge.settings import Settings

    return {"qwen2vl"} if Settings().models.qwen2vl.share_edit_text_encoder else set()


def _fetch(repo_id: str, offline: bool) -> bool:
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(repo_id, local_files_only=offline)
    except Exception as error:  # the hub's errors differ by cause; all mean "not here"
        console.print(f"{repo_id}: {type(error).__name__}: {str(error)[:200]}")
        return False
    return True
