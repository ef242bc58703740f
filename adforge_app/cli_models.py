"""`adforge models ...`: tiny checkpoints, downloads, and the memory plan."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

models_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Neural model weights: tiny checkpoints, downloads, memory plan.")
console = Console()
ProfileOpt = Annotated[str, typer.Option("--profile", help="gpu-24gb | gpu-80gb")]
PlatformsOpt = Annotated[str | None, typer.Option(
    "--platforms", help="comma-separated presets or WxH sizes; default every preset")]

if TYPE_CHECKING:
    from adforge.model_settings import ModelSettings


@models_app.command("make-tiny")
def make_tiny(folder: Annotated[Path | None, typer.Argument(
        help="where to write them; default <ADFORGE_HOME>/models/tiny, where the tiny "
             "profile looks")] = None) -> None:
    """Build tiny random checkpoints of all four models (Hugging Face layout, offline),
    and a tiny LoRA for the edit model."""
    from adforge.model_settings import default_tiny_root
    from adforge.settings import load_settings
    from models.tiny import LORA_KEY
    from models.tiny import make_tiny as build

    home_root = default_tiny_root(load_settings().home)
    root = folder or home_root
    made = build(root)
    if root.resolve() == home_root.resolve():
        console.print(f"# the tiny profile finds them in {root}: adforge run --profile tiny ...",
                      soft_wrap=True)
    else:
        console.print("# the tiny profile: ADFORGE_PROFILE=tiny with")
        console.print(f"ADFORGE_MODELS__TINY_ROOT={root.resolve()}", soft_wrap=True)
    console.print("# or one model at a time, in any profile:")
    lora = made.pop(LORA_KEY, None)
    for key, path in made.items():
        console.print(f"ADFORGE_MODELS__{key.upper()}__SOURCE={path.resolve()}",
                      soft_wrap=True)
    if lora is not None:
        console.print("# the edit model with the tiny step-distilled LoRA:")
        console.print(f"ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA={lora.resolve()}",
                      soft_wrap=True)


@models_app.command()
def plan(profile: ProfileOpt = "gpu-24gb", platforms: PlatformsOpt = None) -> None:
    """Print where each model goes in the profile's memory budget, and the estimated GPU
    seconds per product for the platforms' canvases (compute floors)."""
    from adforge.settings import load_settings
    from models.profiles import PROFILE_PLANS, memory_plan

    if profile not in PROFILE_PLANS:
        _refuse(f"no memory plan for profile {profile!r}; use one of "
                f"{', '.join(PROFILE_PLANS)}")
    try:
        canvases = _canvases(platforms)
    except ValueError as error:
        _refuse(str(error))
    models = load_settings(profile=profile).run_models()
    rows = memory_plan(profile, models)
    table = Table(title=f"{profile}: budget {models.budget_gib:g} GiB, one stage's model "
                        "at a time")
    for column in ("stage", "model", "weights GiB", "placement", "device GiB", "host GiB"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.stage, row.key, f"{row.weights_gib:.1f}", row.placement,
                      f"{row.device_gib:.1f}", f"{row.host_gib:.1f}")
    console.print(table)
    for row in rows:
        console.print(f"{row.key}: {row.source}", soft_wrap=True)
    _print_gpu_seconds(profile, models, canvases)


def _refuse(message: str) -> NoReturn:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(2)


def _canvases(platforms: str | None) -> dict[str, tuple[int, int]]:
    """The platforms' canvas sizes by name (presets or WxH; default every preset)."""
    from adforge.specs import PRESETS, rendition_spec

    names = [name.strip() for name in (platforms or ",".join(PRESETS)).split(",")
             if name.strip()]
    if not names:
        raise ValueError("--platforms names no platform")
    specs = [rendition_spec(name) for name in names]
    return {spec.name: (spec.width, spec.height) for spec in specs}


def _print_gpu_seconds(profile: str, models: ModelSettings,
                       canvases: dict[str, tuple[int, int]]) -> None:
    """Per stage and in total: the compute floor of one product's canvases."""
    from models.compute_floors import assumptions, product_floors

    floors = product_floors(models, list(canvases.values()))
    count = f"{len(canvases)} canvas" + ("es" if len(canvases) > 1 else "")
    table = Table(title=f"{profile}: estimated GPU seconds per product, {count}: "
                        f"{', '.join(canvases)}")
    for column in ("stage", "model", "work per product", "TFLOP", "GPU s"):
        table.add_column(column)
    for floor in floors:
        table.add_row(floor.stage, floor.model, floor.settings, f"{floor.tflops:,.0f}",
                      f"{floor.floor_s:.1f}")
    console.print(table)
    total = sum(floor.floor_s for floor in floors)
    console.print(f"total: {total:.1f} GPU seconds per product", soft_wrap=True)
    console.print(f"assumes: {assumptions()}", soft_wrap=True)


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
    lora = _profile_lora(profile)
    if lora is not None:
        needed_lora = f"{lora[0]} ({lora[1]})" if lora[1] else lora[0]
        if not _fetch(lora[0], offline, filename=lora[1]):
            missing.append(needed_lora)
    if missing:
        how = "HF_HUB_OFFLINE is set" if offline else "the download failed"
        console.print(f"[red]{len(missing)} model(s) missing ({how}):[/red]")
        for source in missing:
            console.print(f"  - {source}", soft_wrap=True)
        console.print("Run `adforge models pull` with network access (HF_HUB_OFFLINE unset), "
                      "or set ADFORGE_MODELS__<KEY>__SOURCE to local folders"
                      + (" and ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA to a local file (none: "
                         "the 40-step recipe without it)" if lora else "") + ".")
        raise typer.Exit(1)
    console.print(f"all {len(needed)} models of {profile} are in the cache"
                  + (" (and its LoRA)" if lora else ""))


def _profile_lora(profile: str) -> tuple[str, str | None] | None:
    """The edit model's LoRA as the profile runs it (hub id, file), unless it is local
    or off."""
    from adforge.settings import load_settings

    edit = load_settings(profile=profile).run_models().qwen_image_edit
    if not edit.lora or Path(edit.lora).exists():
        return None
    return edit.lora, edit.lora_weight_name


def _answered_by_the_edit_model() -> set[str]:
    """Qwen2-VL is not needed when the layout stage uses Qwen-Image-Edit's encoder."""
    from adforge.settings import Settings

    return {"qwen2vl"} if Settings().models.qwen2vl.share_edit_text_encoder else set()


def _fetch(repo_id: str, offline: bool, filename: str | None = None) -> bool:
    """The repo (or its one file: a LoRA repo holds many) in the cache."""
    from huggingface_hub import hf_hub_download, snapshot_download

    try:
        if filename:
            hf_hub_download(repo_id, filename, local_files_only=offline)
        else:
            snapshot_download(repo_id, local_files_only=offline)
    except Exception as error:  # the hub's errors differ by cause; all mean "not here"
        console.print(f"{repo_id}: {type(error).__name__}: {str(error)[:200]}")
        return False
    return True
