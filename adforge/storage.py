"""The asset store: content-addressed keys, atomic writes, local folders or S3.

A stage output is written once under a key derived from everything that determines it:

    key = "{stage}/{digest[:2]}/{digest}.{ext}",  digest = sha256(canonical JSON of
          stage, inputs (hashes or keys of upstream data), params, backend)

so a rerun that computes the same key finds the output already there and skips the stage.

Writes are atomic: the bytes go to a hidden temporary file in the destination folder
(`.{name}.{pid}-{random}.tmp`), are flushed to disk, then renamed over the final name. A
reader never sees a half-written object under a final name, whatever happens to the writer;
`adforge.recovery` removes the temporary files of writers that were killed.

    AssetStore (abstract)        put_bytes / get_bytes / exists / uri / local_path / delete
    ├── LocalStore               a folder; URIs are file:// URIs of absolute paths
    └── S3Store                  s3://bucket/prefix/ (adforge/storage_s3.py)
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import errno
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

from pydantic import BaseModel

from adforge.errors import AdForgeError, TransientError

SAFE_STAGE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SAFE_EXT = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*$")
TEMP_SUFFIX = ".tmp"
CHUNK_BYTES = 1 << 20

# OS errors worth a retry: the device or the network file system may recover.
TRANSIENT_ERRNOS = frozenset(
    {errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EIO, errno.ETIMEDOUT, errno.ESTALE}
)


class AssetNotFoundError(AdForgeError):
    """A key (or URI) that names nothing in the store."""


class StoreNotAvailableError(AdForgeError, NotImplementedError):
    """A store kind that this release does not provide yet."""


# ---------------------------------------------------------------------------------------
# Hashes and content keys
# ---------------------------------------------------------------------------------------


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """Hex sha256 of in-memory bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    """`json.dumps` fallback: the non-JSON types that stage inputs and params carry."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, set | frozenset):
        return sorted(value, key=canonical_json)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot hash a {type(value).__name__} into a content key: {value!r}")


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, no NaN, non-JSON types normalised."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False, default=_jsonable,
    )


def content_key(stage: str, *, inputs: dict, params: dict, backend: str, ext: str) -> str:
    """The store key of a stage output: a hash of everything that determines it.

    `inputs` holds hashes or keys of upstream data (never the data); `params` the stage
    parameters (seed included); `backend` the backend name (and model id when it matters).
    """
    if not SAFE_STAGE.match(stage):
        raise ValueError(f"stage {stage!r} must be lower-case letters, digits, '-' or '_'")
    ext = ext.lstrip(".").lower()
    if not SAFE_EXT.match(ext):
        raise ValueError(f"extension {ext!r} must be letters and digits, e.g. 'png'")
    payload = {"stage": stage, "inputs": inputs, "params": params, "backend": backend}
    digest = hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    return f"{stage}/{digest[:2]}/{digest}.{ext}"


def check_key(key: str) -> str:
    """A key is a relative POSIX path without '.', '..', hidden or empty segments."""
    parts = key.split("/")
    bad = (
        not key or "\\" in key or "\x00" in key or key.startswith("/")
        or any(not part or part.startswith(".") for part in parts)
    )
    if bad:
        raise ValueError(
            f"store key {key!r} must be a relative path like 'segment/ab/abcd.png' "
            "(no leading '/', no '..', no hidden or empty parts)"
        )
    return key


# ---------------------------------------------------------------------------------------
# Atomic files
# ---------------------------------------------------------------------------------------


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of our in-flight temporary files."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Open a binary file that appears under `path` only once it is complete.

    Writes go to `.{name}.{pid}-{random}.tmp` in the same folder; on a clean exit the file is
    flushed, fsynced and renamed over `path`; on an exception it is removed and `path`
    is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(8)}{TEMP_SUFFIX}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def write_file_atomic(path: str | Path, data: bytes | bytearray | memoryview) -> Path:
    """Write `data` to `path` atomically (see `atomic_writer`); returns the path."""
    with _transient_os_errors(path), atomic_writer(path) as handle:
        handle.write(data)
    return Path(path)


@contextmanager
def _transient_os_errors(target: str | Path) -> Iterator[None]:
    """Re-raise OS errors that may pass on their own as `TransientError`."""
    try:
        yield
    except OSError as exc:
        if exc.errno in TRANSIENT_ERRNOS:
            raise TransientError(f"storage error on {target}: {exc}") from exc
        raise


# ---------------------------------------------------------------------------------------
# Stores
# ---------------------------------------------------------------------------------------


class AssetStore(abc.ABC):
    """Where stage outputs live. Keys are relative POSIX paths; URIs are absolute.

    Every method that takes a key also accepts a URI of this store (`uri(key)`), so a
    URI recorded in the database can be read back directly.
    """

    @property
    @abc.abstractmethod
    def base_uri(self) -> str:
        """The URI prefix of every object: `file:///abs/root/` or `s3://bucket/prefix/`."""

    @abc.abstractmethod
    def put_bytes(
        self, key: str, data: bytes | bytearray | memoryview,
        content_type: str = "application/octet-stream",
    ) -> str:
        """Store `data` under `key` atomically and return its URI."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The bytes under a key or URI; `AssetNotFoundError` when there are none."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a complete object is stored under the key or URI."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object under the key or URI; nothing happens when it is absent."""

    def local_path(self, key: str) -> Path | None:
        """A local file path for the key when the store is local, else None."""
        return None

    def uri(self, key: str) -> str:
        """The absolute URI of a key."""
        return self.base_uri + check_key(key)

    def key_of(self, key_or_uri: str) -> str:
        """The key named by a key or by a URI of this store."""
        if key_or_uri.startswith(self.base_uri):
            return check_key(unquote(key_or_uri[len(self.base_uri):]))
        if "://" in key_or_uri:
            raise AssetNotFoundError(
                f"{key_or_uri} is not in the store at {self.base_uri}; "
                "open the store that wrote it"
            )
        return check_key(key_or_uri)

    def put_file(
        self, key: str, path: str | Path, content_type: str = "application/octet-stream"
    ) -> str:
        """Store a file's content under `key`; returns the URI."""
        return self.put_bytes(key, Path(path).read_bytes(), content_type)


class LocalStore(AssetStore):
    """A store in a local folder. URIs are `file://` URIs of absolute paths.

    The content type is not kept: the key's extension says what a file is.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        if self.root.exists() and not self.root.is_dir():
            raise AdForgeError(f"asset store {self.root} is a file; point it at a folder")
        self.root.mkdir(parents=True, exist_ok=True)
        self._base_uri = self.root.as_uri().rstrip("/") + "/"

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    @property
    def base_uri(self) -> str:
        return self._base_uri

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def key_of(self, key_or_uri: str) -> str:
        path = Path(key_or_uri)
        if path.is_absolute() and path.is_relative_to(self.root):
            return check_key(path.relative_to(self.root).as_posix())
        return super().key_of(key_or_uri)

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def put_bytes(
        self, key: str, data: bytes | bytearray | memoryview,
        content_type: str = "application/octet-stream",
    ) -> str:
        path = self._path(key)
        write_file_atomic(path, data)
        return path.as_uri()

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            with _transient_os_errors(path):
                return path.read_bytes()
        except FileNotFoundError:
            raise AssetNotFoundError(f"no asset {self.key_of(key)} in {self.root}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        with _transient_os_errors(path):
            path.unlink(missing_ok=True)

    def _path(self, key_or_uri: str) -> Path:
        return self.root.joinpath(*PurePosixPath(self.key_of(key_or_uri)).parts)


def open_store(spec: str | Path) -> AssetStore:
    """The store named by a setting: a folder path, a `file://` URI, or `s3://bucket/prefix`
    (an `adforge.storage_s3.S3Store`, configured by the `ADFORGE_S3__*` settings)."""
    if isinstance(spec, Path):
        return LocalStore(spec)
    parsed = urlparse(spec)
    if parsed.scheme == "s3":
        from adforge.settings import Settings
        from adforge.storage_s3 import S3Store

        settings = Settings()
        return S3Store.from_uri(spec, settings.s3, spool_root=settings.home / "spool")
    if parsed.scheme == "file":
        return LocalStore(unquote(parsed.path))
    if "://" in spec:
        raise AdForgeError(
            f"asset store {spec}: unknown scheme {parsed.scheme!r}; use a local folder"
        )
    return LocalStore(spec)
