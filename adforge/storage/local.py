"""The local store: a folder, written with atomic renames (`adforge.storage.atomic`)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from adforge.errors import AdForgeError
from adforge.storage.atomic import transient_os_errors, write_file_atomic
from adforge.storage.base import AssetNotFoundError, AssetStore
from adforge.storage.keys import check_key


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

    def local_folders(self) -> list[Path]:
        return [self.root]

    def put_bytes(
        self, key: str, data: bytes | bytearray | memoryview,
        content_type: str = "application/octet-stream", *, durable: bool = True,
    ) -> str:
        path = self._path(key)
        write_file_atomic(path, data, durable=durable)
        return path.as_uri()

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            with transient_os_errors(path):
                return path.read_bytes()
        except FileNotFoundError:
            raise AssetNotFoundError(f"no asset {self.key_of(key)} in {self.root}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def holds(self, key: str, size: int) -> bool:
        try:
            return self._path(key).stat().st_size == size
        except (FileNotFoundError, NotADirectoryError):
            return False

    def delete(self, key: str) -> None:
        path = self._path(key)
        with transient_os_errors(path):
            path.unlink(missing_ok=True)

    def _path(self, key_or_uri: str) -> Path:
        return self.root.joinpath(*PurePosixPath(self.key_of(key_or_uri)).parts)
