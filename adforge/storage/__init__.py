"""The asset store: content-addressed keys, atomic writes, local folders or S3.

A stage output is written once under a key derived from everything that determines it
(`keys.content_key`), so a rerun that computes the same key finds the output already
there and skips the stage. Writes are atomic (`atomic.atomic_writer`): a reader never sees
a half-written object under a final name.

    keys.py     content keys, hashes, canonical JSON, key checks
    atomic.py   atomic file writes and the names of their temporary files
    base.py     AssetStore (the interface) and its errors
    local.py    LocalStore: a folder
    s3.py       S3Store: a bucket with a local spool (imports boto3: loaded only for s3://)

`open_store` sits above both stores and picks one from a setting; the run's settings
are passed in, never read from the environment here.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from adforge.errors import AdForgeError
from adforge.settings import S3Settings
from adforge.storage.atomic import TEMP_SUFFIX, atomic_writer, is_temp_name, write_file_atomic
from adforge.storage.base import AssetNotFoundError, AssetStore, StoreNotAvailableError
from adforge.storage.keys import (
    canonical_json,
    check_key,
    content_key,
    content_type_of,
    sha256_bytes,
    sha256_file,
)
from adforge.storage.local import LocalStore

__all__ = [
    "TEMP_SUFFIX", "AssetNotFoundError", "AssetStore", "LocalStore", "StoreNotAvailableError",
    "atomic_writer", "canonical_json", "check_key", "content_key", "content_type_of",
    "is_temp_name", "open_store", "sha256_bytes", "sha256_file", "write_file_atomic",
]


def open_store(spec: str | Path, *, s3: S3Settings | None = None,
               spool_root: Path | None = None) -> AssetStore:
    """The store named by a setting: a folder path, a `file://` URI, or `s3://bucket/prefix`.

    An S3 store is reached with `s3` (default: `S3Settings()`, boto3's own defaults) and
    spools its writes under `spool_root`, which an s3:// spec must come with (a run's is
    `<home>/spool`): a spool in an unannounced folder would hide unsent work."""
    if isinstance(spec, Path):
        return LocalStore(spec)
    parsed = urlparse(spec)
    if parsed.scheme == "s3":
        return _open_s3_store(spec, s3, spool_root)
    if parsed.scheme == "file":
        return LocalStore(unquote(parsed.path))
    if "://" in spec:
        raise AdForgeError(
            f"asset store {spec}: unknown scheme {parsed.scheme!r}; use a local folder"
        )
    return LocalStore(spec)


def _open_s3_store(spec: str, s3: S3Settings | None, spool_root: Path | None) -> AssetStore:
    """An `S3Store`; boto3 is imported here, the first time an s3:// store is opened."""
    from adforge.storage.s3 import S3Store

    if spool_root is None:
        raise AdForgeError(f"asset store {spec}: an S3 store needs a local spool folder; "
                           "pass spool_root (a run uses <home>/spool)")
    return S3Store.from_uri(spec, s3 or S3Settings(), spool_root=spool_root)
