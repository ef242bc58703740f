"""Briefs: product catalogues (CSV, XLSX, Parquet, JSON Lines) read through pandas.

One row per product. Required columns: `sku`, `image`, `headline`. Optional: `name`,
`subline`, `cta`, `language`, `style`, `prompt`, `platforms`, `seed`, `reference` (an image
whose look FLUX restyles from) with `reference_strength`, `text_mode`, `format` (the
delivered files' format: `webp`, `jpeg:92`, or `blog_header=png; instagram_post=webp:80`),
and the variant columns `variants`, `styles` and `variant` (`adforge.brief_variants`: a
row becomes one `BriefRow` per variant).
Column names are matched loosely (case, surrounding spaces, spaces vs underscores) and a
few aliases are accepted (`product`/`title` → name, `photo`/`image_path` → image,
`tagline` → subline, `call_to_action` → cta, `lang` → language, `formats` → format).
Other columns are ignored.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first product
row 2. Every row is checked and ALL problems are raised together as one `BriefError`.
The checks of single cells are in `adforge.brief_cells`; the paths are checked here:
a local image or reference must be a regular file inside the brief's folder (symlinks
followed first; `allow_outside` lifts that for trusted local briefs) and no larger than
`max_bytes`, all before anything is read. Reading the file (formats, CSV encoding and
separator guesses, which become the brief's `notes`) is `adforge.brief_read`.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from adforge.brief_cells import (
    DEFAULT_REFERENCE_STRENGTH,
    S3_URI,
    check_language,
    check_style,
    check_text_mode,
    default_seed,
    parse_formats,
    parse_platforms,
    parse_reference_strength,
    parse_seed,
    sku_problem,
)
from adforge.brief_read import FORMATS, file_error, read_file_bytes, read_table, supported
from adforge.brief_variants import duplicate_variant_errors, expand_variants, variant_cells
from adforge.errors import BriefError, RowError
from adforge.formats import FormatOverride
from adforge.settings import S3Settings
from adforge.sources import (
    OUTSIDE_SETTING,
    is_s3_uri,
    local_file_problem,
    outside_root_problem,
    resolve_local,
    source_suffix,
)
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
    "formats": "format",
}


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
    formats: dict[str, FormatOverride] | None = Field(
        default=None, description="delivery formats per platform (`*`: all); None: the "
                                  "presets' as the brand kit changes them")
    variant: str = Field(default="", description="the variant id (adforge.variants); "
                                                 "'' for rows older than variants")
    variant_label: str = Field(default="", description="A, B, v2...: what a person reads")
    copy_variant: str = Field(default="", description="the `variant` cell: the copy "
                                                      "variant's label (A, B), '' for none")
    key: str = Field(default="", description="the record key: the sku, or <sku>/<variant> "
                                             "when the product has several variants")

    @model_validator(mode="after")
    def _key_defaults_to_sku(self) -> BriefRow:
        if not self.key:
            self.key = self.sku
        return self

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
    notes: list[str] = Field(default_factory=list,
                             description="what reading it had to guess (CSV separator, "
                                         "encoding): for the run to report")


def load_brief(
    path: Path | str, *, brand_styles: set[str] | None = None, check_images: bool = True,
    s3: S3Settings | None = None, allow_outside: bool = False, max_bytes: int | None = None,
) -> Brief:
    """Read and validate a brief; raise one BriefError listing every problem found."""
    brief, errors = load_brief_lenient(path, brand_styles=brand_styles,
                                       check_images=check_images, s3=s3,
                                       allow_outside=allow_outside, max_bytes=max_bytes)
    if errors:
        raise BriefError(brief.source, errors)
    return brief


def load_brief_lenient(
    path: Path | str, *, brand_styles: set[str] | None = None, check_images: bool = True,
    s3: S3Settings | None = None, allow_outside: bool = False, max_bytes: int | None = None,
    default_variants: int = 1,
) -> tuple[Brief, list[RowError]]:
    """The brief's valid rows, and every row problem (each naming its row and column).

    Problems with the file as a whole (unreadable, a required column missing, no rows)
    raise BriefError: then no row can be trusted. An s3:// brief is read with `s3`
    (None: `S3Settings()`). Local photos must lie inside the brief's folder unless
    `allow_outside`, and be at most `max_bytes` (None: no cap).
    """
    source = str(path)
    # 1. Read the file (local or s3://) into a table of text cells
    data = read_file_bytes(path, source, s3, max_bytes)
    table, notes = read_table(data, source_suffix(path), source, _has_required_columns)
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
                          s3_folder=s3_folder, allow_outside=allow_outside,
                          max_bytes=max_bytes, default_variants=default_variants)
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    for number, cells in _data_rows(table):
        row, row_errors = _check_row(number, cells, context)
        for error in row_errors:
            error.sku = cells.get("sku", "")
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    errors.extend(duplicate_variant_errors(_data_rows(table)))
    # 4. One row per variant, of the rows without a problem
    bad_rows = {error.row for error in errors}
    rows = expand_variants([row for row in rows if row["row"] not in bad_rows])
    if not errors and not rows:
        raise file_error(source, "the brief has no product rows; add one row per product "
                                 "under the header")
    brief = Brief(source=source, sha256=hashlib.sha256(data).hexdigest(),
                  rows=[BriefRow.model_validate(row) for row in rows], notes=notes)
    return brief, sorted(errors, key=lambda e: (e.row, e.column))


# --- reading -------------------------------------------------------------------------


def _canonical_columns(columns: Iterable[Any]) -> dict[Any, str]:
    """Map each original column to its canonical name; aliases yield to real columns."""
    normal = {column: re.sub(r"[\s-]+", "_", str(column).strip().lower()) for column in columns}
    present = set(normal.values())
    return {
        column: ALIASES[name] if name in ALIASES and ALIASES[name] not in present else name
        for column, name in normal.items()
    }


def _has_required_columns(columns: Iterable[str]) -> bool:
    """Whether a header, once matched as the brief matches it, has every required column."""
    return not _missing_column_errors(_canonical_columns(columns).values())


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


# --- row checks ----------------------------------------------------------------------


@dataclass(frozen=True)
class _RowContext:
    """What a row check needs to know beyond the row itself."""

    base_dir: Path
    brand_styles: set[str] | None
    check_images: bool
    columns: set[str]
    s3_folder: str | None = None  # a brief read from S3: relative images live beside it
    allow_outside: bool = False  # local files outside the brief's folder may be read
    max_bytes: int | None = None  # local files above this size are refused
    default_variants: int = 1  # backdrop variants of a row with no `variants` cell


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
        "formats": check("format", *parse_formats(cells.get("format", ""))),
    }
    headline = cells.get("headline", "")
    language, language_problem = check_language(cells.get("language", ""))
    check("headline", headline, None if headline else
          "headline is empty; write the ad's main line (it is printed exactly as written)")
    check("language", language, language_problem)
    fields["copy"] = {"headline": headline, "subline": cells.get("subline", ""),
                      "cta": cells.get("cta", ""), "language": language}
    fields["variant_spec"], variant_problems = variant_cells(cells, context.brand_styles,
                                                             context.default_variants)
    for column, problem in variant_problems:
        check(column, None, problem)
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
    folder (a brief read from S3: against its S3 folder). A local file must stay inside
    the brief's folder (unless `allow_outside`) and, when `check_images` asks it, be a
    regular file within the size cap: all decided without reading it."""
    if "://" in value:
        if not S3_URI.match(value):
            return value, (f"{column} '{value}' is not a usable URI; write s3://bucket/key "
                           "(bucket in lower case) or a local file path")
        inside = context.s3_folder is not None and value.startswith(f"{context.s3_folder}/")
        if inside or context.allow_outside:
            return value, None
        return value, (f"{column} '{value}' lies outside the brief's folder (an S3 object is "
                       "read with the worker's credentials); put it beside the brief and "
                       f"give its relative path (or set {OUTSIDE_SETTING}=true, for "
                       "trusted briefs only)")
    if context.s3_folder is not None:
        if not value.startswith(("/", "~")):
            return f"{context.s3_folder}/{value}", None
        if not context.allow_outside:
            return value, (f"{column} '{value}' is a local path in a brief read from S3; "
                           "give a path relative to the brief or an s3:// URI (or set "
                           f"{OUTSIDE_SETTING}=true, for trusted briefs only)")
    resolved = resolve_local(value, context.base_dir)
    if not context.allow_outside:
        outside = outside_root_problem(resolved, context.base_dir, what="the brief's folder")
        if outside is not None:
            return resolved, f"{column} '{value}' {outside}"
    problem = local_file_problem(resolved, context.max_bytes) if context.check_images else None
    if problem is not None:
        return resolved, (f"{column} {resolved} {problem}; fix the path (relative paths "
                          f"are resolved against {context.base_dir})")
    return resolved, None


# --- writing -------------------------------------------------------------------------


def write_brief(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write rows as a brief in the format named by the extension (for demos and tests)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot write a brief as '{suffix}'; use one of: {supported()}")
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
