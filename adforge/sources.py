"""Inputs that may live on local disk or in S3: briefs, brand kits, product photos.

    read_source("photos/mug.png")                         # a local file
    read_source("s3://brand-assets/photos/mug.png", s3)   # an S3 object, reached with `s3`
    local_copy("s3://brand-assets/fonts/Brand.otf", cache, s3)  # a file for APIs needing a path

`s3` is the run's `S3Settings` (endpoint, region, retries), passed in by the caller;
None means `S3Settings()`, boto3's own defaults. Nothing here reads the environment.

Relative references inside an S3 brief or brand kit resolve against the object's
"folder": `photos/mug.png` in `s3://b/campaign/brief.csv` is `s3://b/campaign/photos/mug.png`.

Local files a brief or brand kit names stay inside its folder, its *root*: a path is
resolved (`~` expanded, symlinks followed) and refused when it lands outside, before
anything is read, unless `ADFORGE_INPUTS__ALLOW_OUTSIDE=true` (trusted local use).
Only regular files are read (a FIFO or a device would block or never end), and only up
to a size cap, checked on the file's metadata (`local_file_problem`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath

from adforge.settings import S3Settings
from adforge.storage import AssetNotFoundError, write_file_atomic

OUTSIDE_SETTING = "ADFORGE_INPUTS__ALLOW_OUTSIDE"
SIZE_SETTING = "ADFORGE_IMAGES__MAX_BYTES"
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def is_s3_uri(source: str | Path) -> bool:
    return isinstance(source, str) and source.startswith("s3://")


def read_source(source: str | Path, s3: S3Settings | None = None,
                max_bytes: int | None = None) -> bytes:
    """The bytes of a local file or an s3:// object; missing ones raise FileNotFoundError.
    max_bytes: an S3 object larger than this is refused from its size alone, before any
    of it is downloaded (local files are checked when the brief is validated)."""
    if is_s3_uri(source):
        from adforge.storage.s3 import read_s3_object  # boto3: only when S3 is used

        try:
            return read_s3_object(str(source), s3 or S3Settings(), max_bytes=max_bytes)
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


# --- local inputs inside their root ---------------------------------------------------


def resolve_local(value: str | Path, root: Path) -> Path:
    """Where a path written in a brief or kit points: `~` expanded, relative paths taken
    from `root`, symlinks followed (so a link cannot lead out of the root unseen)."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else root / path).resolve()


def outside_root_problem(resolved: Path, root: Path, *, what: str) -> str | None:
    """Why `resolved` may not be read from a brief or kit in `root`, or None when it is
    inside. `what` names the root for the message ("the brief's folder")."""
    if resolved.is_relative_to(root.resolve()):
        return None
    return (f"resolves to {resolved}, outside {what} {root.resolve()}; only files inside "
            f"it are read: copy the file there and give its path relative to it (or set "
            f"{OUTSIDE_SETTING}=true to allow any local path, for trusted inputs only)")


def local_file_problem(path: Path, max_bytes: int | None = None) -> str | None:
    """Why a local input file cannot be read, from its metadata only (nothing is opened):
    missing, a folder, not a regular file, or above `max_bytes`; None when it is fine."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "was not found"
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "special")
        return f"is not a regular file (it is {kind}); only regular files are read"
    if max_bytes is not None and info.st_size > max_bytes:
        return (f"is {_megabytes(info.st_size)}, above the {_megabytes(max_bytes)} limit "
                f"for input files; use a smaller file or raise {SIZE_SETTING}")
    return None


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size:,} bytes"
