"""Briefs: product catalogues (CSV, XLSX, Parquet, JSON Lines) read through pandas.

One row per product. Required columns: `sku`, `image`, `headline`. Optional: `name`,
`subline`, `cta`, `language`, `style`, `prompt`, `platforms`, `seed`, `reference` (an image
whose look FLUX restyles from) with `reference_strength`, `text_mode`. Column names are
matched loosely (case, surrounding spaces, spaces vs underscores) and a few aliases are
accepted (`product`/`title` → name, `photo`/`image_path` → image, `tagline` → subline,
`call_to_action` → cta, `lang` → language). Other columns are ignored.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first product
row 2. Every row is checked and ALL problems are raised together as one `BriefError`.
The checks of single cells are in `adforge.brief_cells`; the paths are checked here.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from adforge.brief_cells import (
    DEFAULT_REFERENCE_STRENGTH,
    S3_URI,
    check_language,
    check_style,
    check_text_mode,
    default_seed,
    parse_platforms,
    parse_reference_strength,
    parse_seed,
    sku_problem,
)
from adforge.errors import BriefError, RowError
from adforge.settings import S3Settings
from adforge.sources import is_s3_uri, read_source, source_exists, source_suffix
from adforge.specs import AdCopy
from adforge.text_mode import TextMode, resolve_text_mode

# resolve_text_mode: a row's text_mode is resolved against the brand kit's and the run's
__all__ = ["Brief", "BriefRow", "cell_text", "default_seed", "load_brief", "load_brief_lenient",
           "resolve_text_mode", "write_brief"]

REQUIRED_COLUMNS = ("sku", "image", "headline")
ALIASES = {
    "product": "name", "title": "name",
    "photo": "image", "image_path": "image",
    "tagline": "subline",
    "call_to_action": "cta",
    "lang": "language",
}
FORMATS = {".csv": "CSV", ".xlsx": "Excel", ".parquet": "Parquet",
           ".jsonl": "JSON Lines", ".ndjson": "JSON Lines"}


# `copy` is the brief's word for the ad text; it shadows the deprecated BaseModel.copy().
warnings.filterwarnings("ignore", message='Field name "copy" in "BriefRow"', category=UserWarning)


class BriefRow(BaseModel):
    """One validated product of a brief."""

    row: int = Field(ge=2, description="spreadsheet row number: the header is row 1")
    sku: str = Field(min_length=1, max_length=64, description="unique, file-name-safe id")
    name: str = Field(default="", description="product name, for reports and prompts")
    image: Path | str = Field(description="resolved local path, or an s3:// URI")
    copy: AdCopy = Field(description="what the ad says, exactly")  # type: ignore[assignment]
    style: str | None = Field(default=None, description="brand style preset; None: the default")
    prompt: str | None = Field(default=None, description="background prompt; None: the brand's")
    platforms: list[str] | None = Field(default=None, min_length=1,
                                        description="preset names or custom WxH sizes; "
                                                    "None: the run's platforms")
    seed: int = Field(ge=0, le=2**32 - 1, description="reproducible seed, derived from the sku")
    reference: Path | str | None = Field(
        default=None, description="image whose look FLUX restyles the backdrop from "
                                  "(img2img): resolved local path or s3:// URI; None: none")
    reference_strength: float = Field(
        default=DEFAULT_REFERENCE_STRENGTH, gt=0.0, le=1.0,
        description="how far the backdrop may move from the reference: near 0 keeps it, "
                    "1 replaces it")
    text_mode: TextMode | None = Field(default=None, description="edit | typeset; None: the "
                                                                 "brand kit's or the run's")

    @field_validator("image", "reference", mode="plain")
    @classmethod
    def _uri_or_path(cls, value: Any, info: ValidationInfo) -> Path | str | None:
        """URIs stay text (a Path would fold 's3://' to 's3:/'); anything else is a Path."""
        if value is None and info.field_name == "reference":
            return None
        if isinstance(value, Path):
            return value
        if isinstance(value, str) and value:
            return value if "://" in value else Path(value)
        raise ValueError(f"{info.field_name} must be a path or a URI, not {value!r}")


class Brief(BaseModel):
    """A validated brief: where it came from, its content hash, and its rows."""

    source: str = Field(description="the brief file's path")
    sha256: str = Field(description="sha256 of the file's bytes")
    rows: list[BriefRow]


def load_brief(
    path: Path | str, *, brand_styles: set[str] | None = None, check_images: bool = True,
    s3: S3Settings | None = None,
) -> Brief:
    """Read and validate a brief; raise one BriefError listing every problem found."""
    brief, errors = load_brief_lenient(path, brand_styles=brand_styles,
                                       check_images=check_images, s3=s3)
    if errors:
        raise BriefError(brief.source, errors)
    return brief


def load_brief_lenient(
    path: Path | str, *, brand_styles: set[str] | None = None, check_images: bool = True,
    s3: S3Settings | None = None,
) -> tuple[Brief, list[RowError]]:
    """The brief's valid rows, and every row problem (each naming its row and column).

    Problems with the file as a whole (unreadable, a required column missing, no rows)
    raise BriefError: then no row can be trusted. An s3:// brief is read with `s3`
    (None: `S3Settings()`).
    """
    source = str(path)
    # 1. Read the file (local or s3://) into a table of text cells
    data = _read_file_bytes(path, source, s3)
    table = _read_table(data, source_suffix(path), source)
    # 2. Normalise the header and check the required columns
    table = table.rename(columns=_canonical_columns(table.columns))
    missing = _missing_column_errors(table.columns)
    if missing:
        raise BriefError(source, sorted(missing, key=lambda e: e.column))
    # 3. Check every row, then SKUs across rows
    s3_folder = source.rsplit("/", 1)[0] if is_s3_uri(path) else None
    base_dir = Path.cwd() if s3_folder else Path(path).parent.resolve()
    context = _RowContext(base_dir=base_dir, brand_styles=brand_styles,
                          check_images=check_images, columns=set(table.columns),
                          s3_folder=s3_folder)
    rows: list[BriefRow] = []
    errors: list[RowError] = []
    for number, cells in _data_rows(table):
        row, row_errors = _check_row(number, cells, context)
        for error in row_errors:
            error.sku = cells.get("sku", "")
        errors.extend(row_errors)
        if row is not None:
            rows.append(BriefRow.model_validate(row))
    errors.extend(_duplicate_sku_errors(_data_rows(table)))
    bad_rows = {error.row for error in errors}
    rows = [row for row in rows if row.row not in bad_rows]
    if not errors and not rows:
        raise _file_error(source, "the brief has no product rows; add one row per product "
                                  "under the header")
    brief = Brief(source=source, sha256=hashlib.sha256(data).hexdigest(), rows=rows)
    return brief, sorted(errors, key=lambda e: (e.row, e.column))


# --- reading -------------------------------------------------------------------------


def _file_error(source: str, reason: str) -> BriefError:
    return BriefError(source, [RowError(0, "file", reason)])


def _supported() -> str:
    return ", ".join(f"{ext} ({kind})" for ext, kind in FORMATS.items())


def _read_file_bytes(path: Path | str, source: str, s3: S3Settings | None) -> bytes:
    suffix = source_suffix(path)
    if suffix not in FORMATS:
        raise _file_error(source, f"'{suffix or '(no extension)'}' is not a supported "
                                  f"brief format; save it as one of: {_supported()}")
    if not source_exists(path):
        raise _file_error(source, "the brief file does not exist; check the path")
    try:
        return read_source(path, s3)
    except FileNotFoundError as exc:
        raise _file_error(source, "the brief file does not exist; check the path") from exc
    except OSError as exc:
        raise _file_error(source, f"the brief file cannot be read ({exc.strerror}); "
                                  "check its permissions") from exc


def _read_table(data: bytes, suffix: str, source: str) -> pd.DataFrame:
    readers: dict[str, Callable[[io.BytesIO], pd.DataFrame]] = {
        ".csv": lambda f: pd.read_csv(f, dtype=str, keep_default_na=False,
                                      skip_blank_lines=False, encoding="utf-8-sig"),
        ".xlsx": lambda f: pd.read_excel(f, dtype=str, na_filter=False, engine="openpyxl"),
        ".parquet": pd.read_parquet,
        # precise_float: pandas' fast JSON parser reads 0.3 as 0.30000000000000004
        ".jsonl": lambda f: pd.read_json(f, lines=True, dtype=False, convert_dates=False,
                                         precise_float=True),
        ".ndjson": lambda f: pd.read_json(f, lines=True, dtype=False, convert_dates=False,
                                          precise_float=True),
    }
    if not data.strip():
        raise _file_error(source, "the brief file is empty; add a header row and one row "
                                  "per product")
    try:
        table = readers[suffix](io.BytesIO(data))
    except UnicodeDecodeError as exc:
        raise _file_error(source, "the file is not UTF-8 text; save it as 'CSV UTF-8'") from exc
    except Exception as exc:  # pandas, openpyxl and pyarrow raise many types
        kind = FORMATS[suffix]
        raise _file_error(source, f"the file cannot be read as {kind} ({exc}); check that it "
                                  f"really is {kind}, or save it as one of: {_supported()}"
                          ) from exc
    return table.reset_index(drop=True)


def _canonical_columns(columns: Iterable[Any]) -> dict[Any, str]:
    """Map each original column to its canonical name; aliases yield to real columns."""
    normal = {column: re.sub(r"[\s-]+", "_", str(column).strip().lower()) for column in columns}
    present = set(normal.values())
    return {
        column: ALIASES[name] if name in ALIASES and ALIASES[name] not in present else name
        for column, name in normal.items()
    }


def _missing_column_errors(columns: Iterable[str]) -> list[RowError]:
    present = set(columns)
    return [RowError(1, name, f"required column is missing; add a '{name}' column")
            for name in REQUIRED_COLUMNS if name not in present]


def cell_text(value: Any) -> str:
    """A cell as trimmed text: NaN/None → "", 42.0 → "42", lists joined with commas."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Iterable):
        return ",".join(filter(None, (cell_text(item) for item in value)))
    return str(value).strip()


def _data_rows(table: pd.DataFrame) -> Iterable[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {column: text}) for each row that is not entirely empty."""
    columns = list(table.columns)
    for index, values in enumerate(table.itertuples(index=False, name=None)):
        cells = {column: cell_text(value) for column, value in zip(columns, values, strict=True)}
        if any(cells.values()):
            yield index + 2, cells


def _duplicate_sku_errors(rows: Iterable[tuple[int, dict[str, str]]]) -> list[RowError]:
    """SKUs name files, so they are compared ignoring case (macOS and Windows do)."""
    first_seen: dict[str, tuple[int, str]] = {}
    errors: list[RowError] = []
    for number, cells in rows:
        sku = cells.get("sku", "")
        if not sku:
            continue
        key = sku.casefold()
        if key in first_seen:
            other_row, other_sku = first_seen[key]
            same = "" if other_sku == sku else f" (as '{other_sku}'; case is ignored)"
            errors.append(RowError(number, "sku", f"sku '{sku}' is also used on row "
                                   f"{other_row}{same}; give every product a unique SKU"))
        else:
            first_seen[key] = (number, sku)
    return errors


# --- row checks ----------------------------------------------------------------------


@dataclass(frozen=True)
class _RowContext:
    """What a row check needs to know beyond the row itself."""

    base_dir: Path
    brand_styles: set[str] | None
    check_images: bool
    columns: set[str]
    s3_folder: str | None = None  # a brief read from S3: relative images live beside it


def _check_row(
    number: int, cells: dict[str, str], context: _RowContext
) -> tuple[dict[str, Any] | None, list[RowError]]:
    """The row's BriefRow fields, or None with the reasons it is unusable."""
    errors: list[RowError] = []

    def check(column: str, value: Any, reason: str | None) -> Any:
        if reason is not None and column in context.columns:
            errors.append(RowError(number, column, reason))
        return value

    sku = cells.get("sku", "")
    fields: dict[str, Any] = {
        "row": number,
        "sku": check("sku", sku, sku_problem(sku)),
        "name": cells.get("name", ""),
        "image": check("image", *_resolve_image(cells.get("image", ""), context)),
        "style": check("style", *check_style(cells.get("style", ""), context.brand_styles)),
        "prompt": cells.get("prompt") or None,
        "platforms": check("platforms", *parse_platforms(cells.get("platforms", ""))),
        "seed": check("seed", *parse_seed(cells.get("seed", ""), sku)),
        "reference": check("reference", *_resolve_reference(cells.get("reference", ""),
                                                            context)),
        "reference_strength": check("reference_strength", *parse_reference_strength(
            cells.get("reference_strength", ""))),
        "text_mode": check("text_mode", *check_text_mode(cells.get("text_mode", ""))),
    }
    headline = cells.get("headline", "")
    language, language_problem = check_language(cells.get("language", ""))
    check("headline", headline, None if headline else
          "headline is empty; write the ad's main line (it is printed exactly as written)")
    check("language", language, language_problem)
    fields["copy"] = {"headline": headline, "subline": cells.get("subline", ""),
                      "cta": cells.get("cta", ""), "language": language}
    complete = all(name in context.columns for name in REQUIRED_COLUMNS)
    return (fields if complete and not errors else None), errors


def _resolve_image(value: str, context: _RowContext) -> tuple[Path | str, str | None]:
    if not value:
        return value, ("image is empty; give the product photo's path (relative to the "
                       "brief's folder) or an s3://bucket/key URI")
    return _resolve_location("image", value, context)


def _resolve_reference(value: str, context: _RowContext) -> tuple[Path | str | None, str | None]:
    """The optional restyle reference, checked as the product photo is; empty: None."""
    if not value:
        return None, None
    return _resolve_location("reference", value, context)


def _resolve_location(column: str, value: str,
                      context: _RowContext) -> tuple[Path | str, str | None]:
    """An s3:// URI (syntax checked only), or a local file resolved against the brief's
    folder (a brief read from S3: against its S3 folder); local files must exist when
    `check_images` asks it."""
    if "://" in value:
        if S3_URI.match(value):
            return value, None
        return value, (f"{column} '{value}' is not a usable URI; write s3://bucket/key "
                       "(bucket in lower case) or a local file path")
    if context.s3_folder is not None and not value.startswith("/"):
        return f"{context.s3_folder}/{value}", None
    path = Path(value).expanduser()
    resolved = (path if path.is_absolute() else context.base_dir / path).resolve()
    if context.check_images and not resolved.is_file():
        where = "is a folder, not a file" if resolved.is_dir() else "was not found"
        return resolved, (f"{column} {resolved} {where}; fix the path (relative paths are "
                          f"resolved against {context.base_dir})")
    return resolved, None


# --- writing -------------------------------------------------------------------------


def write_brief(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write rows as a brief in the format named by the extension (for demos and tests)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot write a brief as '{suffix}'; use one of: {_supported()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".xlsx":
        table.to_excel(path, index=False, engine="openpyxl")
    elif suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_json(path, orient="records", lines=True, force_ascii=False)
    return path
