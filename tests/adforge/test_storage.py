"""The asset store: content keys, hashes, atomic writes, the local store."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
from enum import Enum
from pathlib import Path

import pytest

from adforge.errors import AdForgeError
from adforge.settings import S3Settings
from adforge.specs import Box
from adforge.storage import (
    AssetNotFoundError,
    LocalStore,
    atomic_writer,
    content_key,
    is_temp_name,
    open_store,
    sha256_bytes,
    sha256_file,
    write_file_atomic,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "inputs": {"photo": "ab" * 32},
    "params": {"seed": 7, "size": [512, 512]},
    "backend": "classic",
    "ext": "png",
}


class Mode(Enum):
    fast = "fast"


def key_with(stage: str = "segment", **changes: object) -> str:
    return content_key(stage, **(BASE | changes))  # type: ignore[arg-type]


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and is_temp_name(p.name)]


# --- content keys -------------------------------------------------------------------


def test_content_key_has_the_documented_shape() -> None:
    key = key_with()
    digest = key.split("/")[-1].removesuffix(".png")
    assert re.fullmatch(r"segment/[0-9a-f]{2}/[0-9a-f]{64}\.png", key)
    assert key.split("/")[1] == digest[:2]


def test_content_key_ignores_dict_order() -> None:
    swapped = {"size": [512, 512], "seed": 7}
    assert key_with(params=swapped) == key_with()


@pytest.mark.parametrize(
    "change",
    [
        {"stage": "background"},
        {"inputs": {"photo": "cd" * 32}},
        {"params": {"seed": 8, "size": [512, 512]}},
        {"backend": "birefnet"},
        {"ext": "webp"},
    ],
    ids=["stage", "inputs", "params", "backend", "ext"],
)
def test_content_key_changes_with_each_part(change: dict) -> None:
    assert key_with(**change) != key_with()


def test_content_key_accepts_paths_enums_and_models() -> None:
    params = {"font": Path("/fonts/a.ttf"), "mode": Mode.fast, "box": Box(x=0, y=0, w=1, h=1)}
    same = {"font": "/fonts/a.ttf", "mode": "fast", "box": {"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0}}
    assert key_with(params=params) == key_with(params=same)


@pytest.mark.parametrize("stage, ext", [("Seg/ment", "png"), ("segment", "p/g"), ("", "png")])
def test_content_key_rejects_unsafe_names(stage: str, ext: str) -> None:
    with pytest.raises(ValueError):
        content_key(stage, inputs={}, params={}, backend="classic", ext=ext)


def test_hashes_match_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_bytes(data) == expected
    assert sha256_file(path) == expected


# --- atomic writes ------------------------------------------------------------------


def test_write_file_atomic_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out" / "ad.png"
    write_file_atomic(target, b"first")
    write_file_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert leftovers(tmp_path) == []


def test_failed_writer_leaves_old_content_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "ad.png"
    target.write_bytes(b"complete")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half of the")
        raise RuntimeError("writer died")
    assert target.read_bytes() == b"complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ad.png"]


def test_killed_writer_never_shows_a_partial_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    key = key_with()
    script = textwrap.dedent(f"""
        import os
        from adforge.storage import atomic_writer
        with atomic_writer({str(store.local_path(key))!r}) as handle:
            handle.write(b"x" * 100_000)
            handle.flush()
            os._exit(3)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, timeout=60)
    assert done.returncode == 3
    assert not store.exists(key)
    (temp,) = leftovers(tmp_path)
    assert temp.parent == store.local_path(key).parent
    assert temp.stat().st_size == 100_000


# --- the local store ----------------------------------------------------------------


def test_local_store_round_trip_by_key_and_uri(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "assets with space")
    key = key_with()
    uri = store.put_bytes(key, b"pixels", "image/png")
    assert uri == store.uri(key)
    assert uri.startswith("file:///")
    assert store.get_bytes(key) == store.get_bytes(uri) == b"pixels"
    assert store.key_of(uri) == key
    assert store.local_path(key).read_bytes() == b"pixels"
    assert store.key_of(str(store.local_path(key))) == key
    assert leftovers(tmp_path) == []


def test_local_store_exists_and_delete(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    key = key_with()
    assert not store.exists(key)
    store.put_bytes(key, b"data")
    assert store.exists(key) and store.exists(store.uri(key))
    store.delete(key)
    store.delete(key)  # absent: nothing happens
    assert not store.exists(key)
    with pytest.raises(AssetNotFoundError):
        store.get_bytes(key)


@pytest.mark.parametrize("key", ["../escape.png", "/abs.png", "a//b.png", "a/.hidden", ""])
def test_local_store_rejects_unsafe_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        LocalStore(tmp_path).put_bytes(key, b"x")


def test_local_store_rejects_uris_of_other_stores(tmp_path: Path) -> None:
    first, second = LocalStore(tmp_path / "a"), LocalStore(tmp_path / "b")
    uri = first.put_bytes("segment/x.png", b"x")
    with pytest.raises(AssetNotFoundError, match="not in the store"):
        second.get_bytes(uri)
    with pytest.raises(AssetNotFoundError):
        second.get_bytes("s3://bucket/segment/x.png")


def test_open_store(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path / "a"), LocalStore)
    assert open_store(str(tmp_path / "b")).root == (tmp_path / "b").resolve()
    assert open_store((tmp_path / "c").as_uri()).root == (tmp_path / "c").resolve()
    s3 = open_store("s3://bucket/prefix", s3=S3Settings(region="eu-west-1"),
                    spool_root=tmp_path / "spool")
    assert s3.base_uri == "s3://bucket/prefix/"
    assert s3.uri("segment/x.png") == "s3://bucket/prefix/segment/x.png"
    assert s3.is_remote
    assert s3.local_folders() == [(tmp_path / "spool" / "bucket" / "prefix").resolve()]
    with pytest.raises(AdForgeError, match="unknown scheme"):
        open_store("ftp://host/folder")


def test_open_store_wants_a_spool_for_s3() -> None:
    with pytest.raises(AdForgeError, match="spool_root"):
        open_store("s3://bucket/prefix", s3=S3Settings())


def test_local_store_has_nothing_to_flush_or_presign(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "assets")
    uri = store.put_bytes("rendition/aa/x.png", b"png")
    assert not store.is_remote
    assert store.flush_pending() == 0
    assert store.presign(uri) is None and store.presign("rendition/aa/x.png") is None
    assert store.local_folders() == [(tmp_path / "assets").resolve()]


def test_importing_the_store_leaves_boto3_alone() -> None:
    """boto3 is slow to import and only an s3:// store needs it."""
    script = "import sys, adforge.storage; print('boto3' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, timeout=60,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_open_store_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(AdForgeError, match="is a file"):
        open_store(tmp_path / "file")
