"""What every asset store offers, and the errors it raises.

    AssetStore (abstract)        put_bytes / get_bytes / exists / holds / uri / local_path / delete
    │                            is_remote / flush_pending / presign / local_folders
    ├── LocalStore               a folder; URIs are file:// URIs of absolute paths
    └── S3Store                  s3://bucket/prefix/ with a local spool (adforge.storage.s3)

The callers never ask which kind of store they hold: what differs between a folder and a
bucket (pending uploads, shareable links, folders to sweep after a crash) is asked of
the store itself, and the local answer is "nothing to do".
"""

from __future__ import annotations

import abc
from pathlib import Path
from urllib.parse import unquote

from adforge.errors import AdForgeError
from adforge.storage.keys import check_key


class AssetNotFoundError(AdForgeError):
    """A key (or URI) that names nothing in the store."""


class StoreNotAvailableError(AdForgeError, NotImplementedError):
    """A store kind that this release does not provide yet."""


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
        content_type: str = "application/octet-stream", *, durable: bool = True,
    ) -> str:
        """Store `data` under `key` atomically and return its URI. `durable=False`: the
        caller checks the size on reading (`holds`), so a local store may skip flushing
        it to disk; a power loss can then leave it short, never a killed process."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The bytes under a key or URI; `AssetNotFoundError` when there are none."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a complete object is stored under the key or URI."""

    def holds(self, key: str, size: int) -> bool:
        """Whether the object under the key is whole: it exists with `size` bytes. Objects
        of a remote store are never torn (an upload is atomic), so existing is enough."""
        return self.exists(key)

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object under the key or URI; nothing happens when it is absent."""

    # --- what differs between a local and a remote store ----------------------------------

    @property
    def is_remote(self) -> bool:
        """Whether objects live away from this machine: then the tracking database records
        store URIs (the local output folder is only a copy) and reports link to `presign`."""
        return False

    def flush_pending(self) -> int:
        """Upload what was written while the remote end was unreachable; returns how many
        objects went up. A local store has nothing pending."""
        return 0

    def presign(self, key_or_uri: str) -> str | None:
        """A time-limited https link to an object that opens without credentials; None
        where the store has no such links (a local folder)."""
        return None

    def local_folders(self) -> list[Path]:
        """The local folders this store writes into, where a killed writer may have left
        temporary files (`adforge.recovery` sweeps them)."""
        return []

    # --- keys and URIs ----------------------------------------------------------------------

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
