"""The S3 store against moto's real HTTP server: objects, headers, checksums, multipart,
presigned links, errors without credentials, outages, and inputs read from S3."""

from __future__ import annotations

import os
import signal
import threading
import urllib.request
from pathlib import Path

import pytest

from adforge.brandkit import load_brand_kit
from adforge.errors import AdForgeError, ImageInputError, TransientError
from adforge.settings import S3Settings
from adforge.sources import read_source
from adforge.storage import AssetNotFoundError, content_key, open_store, sha256_bytes
from adforge.storage.s3 import S3Store
from tests.integration.conftest import SECRET, MotoServer, S3Env

pytestmark = pytest.mark.slow


def _store(env: S3Env, tmp_path: Path, **overrides: object) -> S3Store:
    return S3Store.from_uri(env.store, env.settings(**overrides), spool_root=tmp_path / "spool")


def test_put_get_exists_headers_and_checksum(s3_env: S3Env, tmp_path: Path) -> None:
    store = _store(s3_env, tmp_path)
    key = content_key("segment", inputs={"photo": "ab"}, params={}, backend="x", ext="png")
    uri = store.put_bytes(key, b"png bytes", "image/png")

    assert uri == f"s3://{s3_env.bucket}/campaigns/{key}"
    assert store.exists(uri) and store.get_bytes(key) == b"png bytes"
    head = s3_env.server.client().head_object(Bucket=s3_env.bucket, Key=f"campaigns/{key}")
    assert head["ContentType"] == "image/png"
    assert "immutable" in head["CacheControl"]
    assert head["Metadata"]["sha256"] == sha256_bytes(b"png bytes")
    assert store.pending_keys() == []  # the spool copy is gone once uploaded
    store.put_bytes("runs/r1/config.json", b"{}", "application/json")
    head = s3_env.server.client().head_object(Bucket=s3_env.bucket,
                                              Key="campaigns/runs/r1/config.json")
    assert head["CacheControl"] == "no-cache"
    assert not store.exists("segment/00/missing.png")
    with pytest.raises(AssetNotFoundError):
        store.get_bytes("segment/00/missing.png")
    store.delete(key)
    assert not store.exists(key)


def test_open_store_takes_its_settings_and_spool(s3_env: S3Env, tmp_path: Path) -> None:
    store = open_store(s3_env.store, s3=s3_env.settings(), spool_root=tmp_path / "spool")
    assert store.is_remote
    assert store.local_folders() == [(tmp_path / "spool" / s3_env.bucket / "campaigns").resolve()]
    store.put_bytes("a/b.json", b"[]", "application/json")
    assert s3_env.keys("campaigns/") == ["campaigns/a/b.json"]
    assert store.flush_pending() == 0  # uploaded at once: nothing pending


def test_multipart_upload_of_a_large_file(s3_env: S3Env, tmp_path: Path) -> None:
    store = _store(s3_env, tmp_path, multipart_threshold_mb=5, multipart_chunk_mb=5)
    data = os.urandom(11 * 1024 * 1024)
    store.put_bytes("big/blob.bin", data)

    head = s3_env.server.client().head_object(Bucket=s3_env.bucket, Key="campaigns/big/blob.bin")
    assert head["ETag"].strip('"').endswith("-3")  # three parts: a multipart upload
    assert store.get_bytes("big/blob.bin") == data
    assert head["Metadata"]["sha256"] == sha256_bytes(data)


def test_presigned_link_opens_without_credentials(s3_env: S3Env, tmp_path: Path) -> None:
    store = _store(s3_env, tmp_path)
    store.put_bytes("rendition/aa/x.png", b"\x89PNG fake", "image/png")
    url = store.presign(store.uri("rendition/aa/x.png"))

    assert "X-Amz-Signature=" in url and SECRET not in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"\x89PNG fake"


def test_errors_name_the_fix_and_never_the_secret(s3_env: S3Env, tmp_path: Path) -> None:
    settings = S3Settings(endpoint_url=s3_env.server.url, addressing_style="path")
    store = S3Store("no-such-bucket-here", "p", settings, tmp_path / "spool")
    with pytest.raises(AdForgeError) as caught:
        store.get_bytes("a/b.png")
    assert SECRET not in str(caught.value)


def test_outage_spools_then_uploads(s3_env: S3Env, tmp_path: Path) -> None:
    """Endpoint gone: writes stay in the local spool; once back, they are uploaded."""
    store = _store(s3_env, tmp_path)
    s3_env.server.stop()
    try:
        uri = store.put_bytes("text/aa/master.png", b"master", "image/png")
        assert store.offline and store.pending_keys() == ["text/aa/master.png"]
        assert store.exists(uri) and store.get_bytes(uri) == b"master"
        with pytest.raises(TransientError) as caught:
            store.flush_pending()
        assert SECRET not in str(caught.value)
    finally:
        s3_env.server.start()
    s3_env.create_bucket()  # moto keeps data in memory: a restarted server is empty
    assert store.flush_pending() == 1
    assert store.pending_keys() == [] and not store.offline
    assert s3_env.keys("campaigns/text/") == ["campaigns/text/aa/master.png"]


def test_endpoint_down_for_a_while_is_retried(s3_env: S3Env, tmp_path: Path) -> None:
    """A frozen endpoint (SIGSTOP) times out; botocore's retries carry the upload through
    once it answers again (SIGCONT), with nothing left in the spool."""
    store = _store(s3_env, tmp_path, max_attempts=20, read_timeout_s=1, connect_timeout_s=1)
    server: MotoServer = s3_env.server
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    thaw = threading.Timer(2.0, os.kill, (server.process.pid, signal.SIGCONT))
    thaw.start()
    try:
        store.put_bytes("layout/aa/spec.json", b'{"a": 1}', "application/json")
    finally:
        thaw.join()
    assert not store.offline and store.pending_keys() == []
    assert store.get_bytes("layout/aa/spec.json") == b'{"a": 1}'


def test_inputs_are_read_from_s3(s3_env: S3Env) -> None:
    client = s3_env.server.client()
    client.put_object(Bucket=s3_env.bucket, Key="in/brief.csv", Body=b"sku,image\n")
    settings = s3_env.settings()
    assert read_source(f"s3://{s3_env.bucket}/in/brief.csv", settings) == b"sku,image\n"
    with pytest.raises(FileNotFoundError):
        read_source(f"s3://{s3_env.bucket}/in/missing.csv", settings)


def test_an_s3_photo_over_the_byte_cap_is_refused_before_download(s3_env: S3Env) -> None:
    """ADFORGE_IMAGES__MAX_BYTES holds for S3 inputs too: the object's size (a HEAD) is
    enough to refuse it, and the message names the setting and the fix."""
    client = s3_env.server.client()
    client.put_object(Bucket=s3_env.bucket, Key="in/huge.jpg", Body=b"x" * 5000)
    uri = f"s3://{s3_env.bucket}/in/huge.jpg"
    with pytest.raises(ImageInputError, match="5,000 bytes.*ADFORGE_IMAGES__MAX_BYTES"):
        read_source(uri, s3_env.settings(), max_bytes=4096)
    assert read_source(uri, s3_env.settings(), max_bytes=5000) == b"x" * 5000


def test_brand_kit_from_s3_downloads_its_font_files(s3_env: S3Env, tmp_path: Path) -> None:
    client = s3_env.server.client()
    kit = b"name: S3 Brand\nfonts:\n  headline: {path: fonts/Brand.otf}\n"
    client.put_object(Bucket=s3_env.bucket, Key="kits/brand.yaml", Body=kit)
    client.put_object(Bucket=s3_env.bucket, Key="kits/fonts/Brand.otf", Body=b"font bytes")

    loaded = load_brand_kit(f"s3://{s3_env.bucket}/kits/brand.yaml",
                            cache_dir=tmp_path / "inputs", s3=s3_env.settings())

    assert loaded.name == "S3 Brand"
    assert loaded.fonts.headline.path is not None
    assert loaded.fonts.headline.path.read_bytes() == b"font bytes"
    assert loaded.fonts.headline.path.is_relative_to(tmp_path / "inputs")
