"""The campaign flow's first step: settings, brand kit and brief, and every check that
can fail before the work (adforge/preflight.py), so a bad input ends the run in
seconds, in one message, instead of after the models ran.

A run refused here ends `Failed` with the error as its data and the error's first line
as its message: Prefect logs no traceback for it (a flow that raises would), the shell
prints the message and exits 2, and the UI shows what to fix. Warnings (a logo without
transparency, a guessed CSV separator) are logged now and recorded with the run once
it is open.

The tracking database's URL may hold a password, so no flow takes it as a parameter:
the worker's environment gives it (`ADFORGE_DB_URL`), or a Prefect Secret block named
by `ADFORGE_DB_SECRET_BLOCK` (`with_database_secret`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import get_run_logger
from prefect.states import Failed, State

from adforge.brandkit import BrandKit, default_brand_kit, load_brand_kit
from adforge.brief import Brief, load_brief_lenient
from adforge.brief_variants import MAX_VARIANTS
from adforge.db import repository as repo
from adforge.errors import InputError, RowError, SettingsError
from adforge.preflight import check_before_work
from adforge.settings import Settings, load_settings
from adforge.stagecache import RunConfig, database


@dataclass
class RunStart:
    """What the first step resolved: everything the rest of the run is made from."""

    settings: Settings
    kit: BrandKit
    platforms: list[str]
    brief: Brief
    row_errors: list[RowError]
    warnings: list[str] = field(default_factory=list)


def prepare_run(brief: str, *, brand: str | None, profile: str | None,
                platforms: list[str] | None, out_dir: str | None,
                store: str | None, variants: int = 1, preview: str | None = None,
                keep: int = 1) -> RunStart:
    """Settings (resolved once for the whole run), the brand kit, the checks before the
    work, then the brief: all its row errors at once, the valid rows go on. Raises the
    InputError of the first thing that makes the whole run impossible. `variants`: the
    backdrop variants of a row without a `variants` cell; `preview`: the drafts'
    platform, checked with the others."""
    check_variant_options(variants, keep)
    settings = with_database_secret(load_settings(profile=profile, out_dir=out_dir,
                                                  store=store))
    outside = settings.inputs.allow_outside
    kit = (load_brand_kit(brand, cache_dir=settings.home / "cache" / "inputs",
                          s3=settings.s3, allow_outside=outside)
           if brand else default_brand_kit())
    chosen = platforms or settings.platforms
    warnings = check_before_work(settings, kit, chosen + ([preview] if preview else []))
    parsed, row_errors = load_brief_lenient(brief, brand_styles=kit.style_names(),
                                            s3=settings.s3, allow_outside=outside,
                                            max_bytes=settings.images.max_bytes,
                                            default_variants=variants)
    warnings += parsed.notes
    for warning in warnings:
        get_run_logger().warning(warning)
    return RunStart(settings, kit, chosen, parsed, row_errors, warnings)


def check_variant_options(variants: int, keep: int = 1) -> None:
    """The run's variant options, refused before any work when out of range."""
    if not 1 <= variants <= MAX_VARIANTS:
        raise InputError(f"variants={variants} is out of range; give 1 to {MAX_VARIANTS} "
                         "backdrop variants per row", field="variants")
    if keep < 1:
        raise InputError(f"keep={keep}: keep at least 1 variant per product", field="keep")


def with_database_secret(settings: Settings) -> Settings:
    """The settings with the database URL from the Prefect Secret block
    `db_secret_block` names, when that is set and `db_url` is not (which wins)."""
    if settings.db_url or not settings.db_secret_block:
        return settings
    from prefect.blocks.system import Secret

    try:
        url = Secret.load(settings.db_secret_block).get()
    except ValueError as exc:  # no block of that name (or not a Secret)
        raise SettingsError(
            f"ADFORGE_DB_SECRET_BLOCK={settings.db_secret_block}: no Prefect Secret block "
            f"of that name ({exc}); create it (`prefect block create secret`, or "
            "Secret(value=URL).save(NAME)) or unset the variable",
            field="db_secret_block") from None
    return settings.model_copy(update={"db_url": str(url)})


def refused(error: InputError) -> State:
    """The final state of a run its inputs make impossible: `Failed`, carrying the error
    (a direct call raises it), logged in a line, without a traceback."""
    first_line = str(error).splitlines()[0]
    get_run_logger().error("refused before any work: %s", error)
    return Failed(message=first_line, data=error)


def record_warnings(cfg: RunConfig, warnings: list[str]) -> None:
    """The first step's warnings, kept with the run (report, `adforge report`)."""
    db = database(cfg.db_url)
    for warning in warnings:
        repo.record_error(db, cfg.run_id, None, "inputs", "warning", warning)
