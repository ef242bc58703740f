"""Reading a brief file into a table of text cells: formats, CSV encoding and separator.

A brief is read whole (it is small), from local disk or S3. CSV is the format people
export by hand, so it gets help: a file that is not UTF-8 is read as Windows-1252 when
that gives Western text, and a header that holds the required columns only when split
at `;`, a tab or `|` is read with that separator. Either guess is reported as a note,
so the run can say what it assumed. Anything else that cannot be read is one file error
(`BriefError` with row 0, column 'file') that says how to save the file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from adforge.errors import BriefError, RowError
from adforge.settings import S3Settings
from adforge.sources import is_s3_uri, local_file_problem, read_source, source_suffix

FORMATS = {".csv": "CSV", ".xlsx": "Excel", ".parquet": "Parquet",
           ".jsonl": "JSON Lines", ".ndjson": "JSON Lines"}
LEGACY_ENCODING = "cp1252"  # what Excel on a Western Windows writes as "CSV"
SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}
# Non-letters a Western Windows-1252 text plausibly holds (quotes, dashes, currency...)
_WESTERN_SYMBOLS = set("€‘’“”–—…·°©®™«»×÷§¶¡¿£¥¢")


def file_error(source: str, reason: str) -> BriefError:
    return BriefError(source, [RowError(0, "file", reason)])


def supported() -> str:
    return ", ".join(f"{ext} ({kind})" for ext, kind in FORMATS.items())


def read_file_bytes(path: Path | str, source: str, s3: S3Settings | None,
                    max_bytes: int | None = None) -> bytes:
    """The brief's bytes; a missing, special or oversized local file is a file error."""
    suffix = source_suffix(path)
    if suffix not in FORMATS:
        raise file_error(source, f"'{suffix or '(no extension)'}' is not a supported "
                                 f"brief format; save it as one of: {supported()}")
    if not is_s3_uri(path):
        problem = local_file_problem(Path(path), max_bytes)
        if problem == "was not found":
            raise file_error(source, "the brief file does not exist; check the path")
        if problem is not None:
            raise file_error(source, f"the brief file {problem}")
    try:
        return read_source(path, s3)
    except FileNotFoundError as exc:
        raise file_error(source, "the brief file does not exist; check the path") from exc
    except OSError as exc:
        raise file_error(source, f"the brief file cannot be read ({exc.strerror}); "
                                 "check its permissions") from exc


def read_table(data: bytes, suffix: str, source: str,
               complete: Callable[[Iterable[str]], bool] | None = None,
               ) -> tuple[pd.DataFrame, list[str]]:
    """The file as a table of text cells, and notes on what had to be guessed.
    `complete` says whether a header has every required column (for CSV's guesses)."""
    if not data.strip():
        raise file_error(source, "the brief file is empty; add a header row and one row "
                                 "per product")
    if suffix == ".csv":
        return _read_csv(data, source, complete or (lambda columns: True))
    try:
        table = _READERS[suffix](io.BytesIO(data))
    except Exception as exc:  # pandas, openpyxl and pyarrow raise many types
        raise _unreadable(source, suffix, exc) from exc
    return table.reset_index(drop=True), []


def _unreadable(source: str, suffix: str, exc: Exception) -> BriefError:
    kind = FORMATS[suffix]
    return file_error(source, f"the file cannot be read as {kind} ({exc}); check that it "
                              f"really is {kind}, or save it as one of: {supported()}")


_READERS: dict[str, Callable[[io.BytesIO], pd.DataFrame]] = {
    ".xlsx": lambda f: pd.read_excel(f, dtype=str, na_filter=False, engine="openpyxl"),
    ".parquet": pd.read_parquet,
    # precise_float: pandas' fast JSON parser reads 0.3 as 0.30000000000000004
    ".jsonl": lambda f: pd.read_json(f, lines=True, dtype=False, convert_dates=False,
                                     precise_float=True),
    ".ndjson": lambda f: pd.read_json(f, lines=True, dtype=False, convert_dates=False,
                                      precise_float=True),
}


# --- CSV -----------------------------------------------------------------------------


def _read_csv(data: bytes, source: str,
              complete: Callable[[Iterable[str]], bool]) -> tuple[pd.DataFrame, list[str]]:
    """Comma-separated UTF-8 first; the guesses only when that cannot be what was meant."""
    text, notes = decode_csv_text(data, source)
    table = _parse_csv(text, ",", source)
    if not complete(table.columns):
        guessed = _other_separator(text, complete)
        if guessed is not None:
            notes.append(f"the brief's columns are separated by {SEPARATORS[guessed]}s "
                         f"({guessed!r}), not commas: read it that way")
            table = _parse_csv(text, guessed, source)
    return table, notes


def decode_csv_text(data: bytes, source: str) -> tuple[str, list[str]]:
    """UTF-8 (with or without a byte-order mark); else Windows-1252 when that reads as
    Western text, with a note; else a file error that says how to save it."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode(LEGACY_ENCODING)
    except UnicodeDecodeError:
        text = ""
    if text and _looks_western(text):
        return text, ["the brief is not UTF-8: read it as Windows-1252 (Western European); "
                      "check its accented letters, or save it as 'CSV UTF-8'"]
    raise file_error(source, "the file is not UTF-8 text (nor Western Windows-1252); "
                             "save it as 'CSV UTF-8'")


def _looks_western(text: str) -> bool:
    """Whether every non-ASCII character is a Latin letter or a usual symbol: what a
    Western text is; an Asian legacy encoding read this way gives stray symbols."""
    for char in {c for c in text if ord(c) > 127}:
        if char in _WESTERN_SYMBOLS:
            continue
        if not (unicodedata.category(char).startswith("L")
                and unicodedata.name(char, "").startswith("LATIN")):
            return False
    return True


def _parse_csv(text: str, separator: str, source: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(io.StringIO(text), sep=separator, dtype=str,
                            keep_default_na=False, skip_blank_lines=False)
    except Exception as exc:  # pandas' parser errors
        raise _unreadable(source, ".csv", exc) from exc
    return table.reset_index(drop=True)


def _other_separator(text: str, complete: Callable[[Iterable[str]], bool]) -> str | None:
    """The separator (other than a comma) whose split of the header holds every
    required column, or None."""
    header = text.splitlines()[0] if text.strip() else ""
    try:
        sniffed = csv.Sniffer().sniff(header, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        sniffed = None
    for separator in [s for s in (sniffed, *SEPARATORS) if s]:
        if complete(next(csv.reader([header], delimiter=separator), [])):
            return separator
    return None
