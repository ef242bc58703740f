"""Inputs that may live on local disk or in S3: briefs, brand kits, product photos.

    read_source("photos/mug.png")                         # a local file
    read_source("s3://brand-assets/photos/mug.png", s3)   # an S3 object, reached with `s3`
    local_copy("s3://brand-assets/fonts/Brand.otf", cache, s3)  # a file for APIs needing a path

`s3` is the run's `S3Settings` (endpoint, region, retries), passed in by the caller;
None means `S3Settings()`, boto3's own defaults. Nothing here reads the environment.

Relative references inside an S3 brief or brand kit resolve against the object's
"folder": `photos/mug.png` in `s3://b/campaign/brief.csv` is `s3://b/campaign/photos/mug.png`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from adforge.settings import S3Settings
from adforge.storage import AssetNotFoundError, write_file_atomic


def is_s3_uri(source: str | Path) -> bool:
    return isinstance(source, str) and source.startswith("s3://")


def read_source(source: str | Path, s3: S3Settings | None = None) -> bytes:
    """The bytes of a local file or an s3:// object; missing ones raise FileNotFoundError."""
    if is_s3_uri(source):
        from adforge.storage.s3 import read_s3_object  # boto3: only when S3 is used

        try:
            return read_s3_object(str(source), s3 or S3Settings())
        except AssetNotFoundError as exc:
            raise FileNotFoundError(f"{source} does not exist ({exc})") from exc
    return Path(source).read_bytes()


def source_exists(source: str | Path) -> bool:
    """Whether a local file exists (S3 objects are checked when they are read)."""
    return True if is_s3_uri(source) else Path(source).is_file()


def source_suffix(source: str | Path) -> str:
    return PurePosixPath(str(source)).suffix.lower()


def join_source(base: str | Path, relative: str) -> str | Path:
    """`relative` resolved against the folder of `base` (a local path or an s3:// URI)."""
    if is_s3_uri(base):
        if "://" in relative:
            return relative
        folder = str(base).rsplit("/", 1)[0]
        return f"{folder}/{relative.lstrip('/')}"
    return Path(base).parent / relative


def local_copy(source: str | Path, cache: Path, s3: S3Settings | None = None) -> Path:
    """A local path for a source: itself when local, else a cached download."""
    if not is_s3_uri(source):
        return Path(source)
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:16]
    path = cache / digest / PurePosixPath(str(source)).name
    if not path.is_file():
        write_file_atomic(path, read_source(source, s3))
    return path
