"""What a run checks before any work, so a bad setting fails in seconds, not after the
models ran: the platforms, the output folder, the tracking database, the brand's fonts
and logo. A campaign flow runs these in its first step.

Each failed check raises an `InputError` whose message says what is wrong, where it was
set (the option and the environment variable) and how to fix it; a connection string
is shown with its password redacted. What is worth saying but not fatal (a logo
without transparency, a font family that is not installed) comes back as warnings.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from adforge.brandkit import BrandKit, FontRef
from adforge.errors import BrandKitError, ImageInputError, PreflightError
from adforge.fonts import check_font_file, family_installed
from adforge.imaging.logo import logo_warning
from adforge.settings import ImageLimits, Settings, redact_url
from adforge.sources import local_file_problem
from adforge.specs import rendition_spec

DB_CONNECT_TIMEOUT_S = 5  # a database that answers in no time is down or elsewhere
DB_FIX = "set ADFORGE_DB_URL (or the --db option)"
OUT_FIX = "pass another --out (or set ADFORGE_OUT_DIR)"


def check_before_work(settings: Settings, kit: BrandKit, platforms: list[str]) -> list[str]:
    """Every check below, cheapest first; returns the warnings, raises the first failure."""
    check_platforms(platforms)
    url = check_database_url(settings.database_url())
    check_output_folder(Path(settings.out_dir))
    warnings = check_brand_files(kit, settings.images)
    check_database_reachable(url)
    return warnings


def check_platforms(platforms: list[str]) -> None:
    """Every platform is a preset or a WxH size in range."""
    problems = []
    for name in platforms:
        try:
            rendition_spec(name)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise PreflightError("; ".join(dict.fromkeys(problems)) + " (the --platforms option "
                             "or ADFORGE_PLATFORMS)", field="platforms")


def check_output_folder(folder: Path, fix: str = OUT_FIX, what: str = "output folder") -> None:
    """The folder exists (or can be made) and a file can be written in it."""
    if folder.exists() and not folder.is_dir():
        raise PreflightError(f"{what} {folder} is a file, not a folder; {fix}",
                             field="out_dir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".adforge-write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise PreflightError(f"{what} {folder} is not writable ({reason}); {fix}",
                             field="out_dir") from exc


def check_database_url(text: str) -> URL:
    """The tracking database's URL parses and names a driver that is installed."""
    shown = redact_url(text)
    try:
        url = make_url(text)
        url.get_dialect().import_dbapi()
    except ImportError as exc:
        raise PreflightError(f"tracking database URL '{shown}' needs a driver that is not "
                             f"installed ({exc}); {DB_FIX} with an installed driver, e.g. "
                             "postgresql+psycopg://...", field="db_url") from None
    except NoSuchModuleError:  # a kind of ArgumentError: first
        raise PreflightError(f"tracking database URL '{shown}' names an unknown database "
                             f"kind '{text.partition(':')[0]}'; {DB_FIX} to a sqlite:// or "
                             "postgresql+psycopg:// URL", field="db_url") from None
    except ArgumentError:
        raise PreflightError(
            f"tracking database URL '{shown}' is not a database URL; {DB_FIX} to e.g. "
            "sqlite:///path/adforge.db or postgresql+psycopg://user:password@host/db",
            field="db_url") from None
    return url


def check_database_reachable(url: URL) -> None:
    """One connection, within a few seconds (the run's own connections wait longer). A
    SQLite file not made yet is not made here: its folder must be writable."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            check_output_folder(Path(url.database).parent, fix=DB_FIX,
                                what="the tracking database's folder")
            return
    engine = create_engine(url, connect_args=_timeout_arguments(url))
    try:
        with engine.connect():
            pass
    except (SQLAlchemyError, OSError) as exc:
        reason = _first_line(str(getattr(exc, "orig", None) or exc), url)
        raise PreflightError(
            f"tracking database {url.render_as_string(hide_password=True)} cannot be "
            f"reached ({reason}); start it, or {DB_FIX}", field="db_url") from None
    finally:
        engine.dispose()


def _timeout_arguments(url: URL) -> dict[str, object]:
    backend = url.get_backend_name()
    if backend in ("postgresql", "mysql", "mariadb"):
        return {"connect_timeout": DB_CONNECT_TIMEOUT_S}
    return {}


def _first_line(message: str, url: URL) -> str:
    """The driver's reason, on one line, never with the password in it."""
    line = message.strip().splitlines()[0] if message.strip() else "no answer"
    return line.replace(url.password, "***") if url.password else line


def check_brand_files(kit: BrandKit, limits: ImageLimits) -> list[str]:
    """The kit's font files open as fonts and its logo loads; warnings for a logo
    without transparency and a font family that is not installed."""
    warnings = []
    for role, ref in (("headline", kit.fonts.headline), ("body", kit.fonts.body),
                      ("cta", kit.fonts.cta)):
        warnings.extend(_check_font(ref, role, limits))
    if kit.logo is not None:
        _check_size(kit.logo, "logo", limits)
        try:
            warning = logo_warning(kit.logo)
        except ImageInputError as exc:
            raise BrandKitError(f"brand kit logo: {exc}", item=str(kit.logo),
                                field="logo") from exc
        warnings.extend([warning] if warning else [])
    if isinstance(kit.mood_image, Path):
        _check_size(kit.mood_image, "mood_image", limits)
    return warnings


def _check_font(ref: FontRef, role: str, limits: ImageLimits) -> list[str]:
    if ref.path is not None:
        _check_size(ref.path, f"fonts.{role}", limits)
        check_font_file(ref, role)
        return []
    if ref.family and not family_installed(ref.family, ref.weight):
        return [f"brand font family '{ref.family}' ({role}) is not installed: the "
                "language's default font is used; install it or give a font file (path)"]
    return []


def _check_size(path: Path, field: str, limits: ImageLimits) -> None:
    problem = local_file_problem(path, limits.max_bytes)
    if problem is not None:
        raise BrandKitError(f"brand kit {field}: {path} {problem}", item=str(path),
                            field=field.split(".")[0])

