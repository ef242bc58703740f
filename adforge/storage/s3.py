"""The S3 asset store (boto3): AWS S3 or any S3-compatible endpoint.

    store = open_store("s3://bucket/prefix", s3=settings.s3, spool_root=home / "spool")
    uri = store.put_bytes("segment/ab/abcd.png", data, "image/png")   # s3://bucket/prefix/...
    store.presign(uri)                                # an https GET link that expires

Credentials come from boto3's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, instance roles...); AdForge never reads, stores or prints them.

Writes never expose a partial object: an object exists once its PutObject (or multipart
upload) completes, and a failed multipart upload is aborted by boto3's transfer manager.
Every upload carries ContentType, CacheControl, an SHA-256 checksum that S3 verifies,
and the hex digest as `x-amz-meta-sha256`; downloads ask S3 to validate checksums.

The spool. Every object is first written atomically to a local spool folder
(`<spool_root>/<bucket>/<prefix>/<key>`; a run's spool root is `<home>/spool`), then
uploaded; after the upload the spool copy is removed. When S3 cannot be reached (after
botocore's retries), the store goes *offline* for this process: writes stay in the spool,
existence checks answer from the spool, and work goes on locally. `flush_pending()`
uploads what the spool holds; it raises `TransientError` while S3 is still unreachable,
and a later run (or a retry) uploads the same files: their content keys make this safe
to repeat.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
from pathlib import Path, PurePosixPath
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from adforge.errors import AdForgeError, ImageInputError, TransientError
from adforge.settings import S3Settings
from adforge.storage.atomic import is_temp_name, write_file_atomic
from adforge.storage.base import AssetNotFoundError, AssetStore
from adforge.storage.keys import check_key, content_type_of

log = logging.getLogger(__name__)

S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")
TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "SlowDown", "RequestTimeout", "RequestTimeoutException", "RequestLimitExceeded",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "InternalError", "ServiceUnavailable", "BandwidthLimitExceeded",
})
NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact(text: str) -> str:
    """Remove `user:password@` from any URL in a message (an endpoint may carry one)."""
    return USERINFO.sub("***@", text)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/key` -> ("bucket", "some/key"); refuses anything else."""
    match = S3_URI.match(uri)
    if match is None:
        raise AdForgeError(f"{uri!r} is not an S3 URI; write s3://bucket/key "
                           "(bucket names are lower-case letters, digits, '.' and '-')")
    return match["bucket"], match["key"] or ""


def is_transient_s3_error(exc: BaseException) -> bool:
    """Throttling, 5xx and connection faults: worth another try later."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in TRANSIENT_CODES or status >= 500 or status == 429
    return False


def translate_s3_error(exc: BaseException, action: str, where: str) -> AdForgeError:
    """An S3 failure as AdForge's error: transient, not found, or permanent (with a fix)."""
    message = redact(f"S3 {action} {where}: {exc}")
    if is_transient_s3_error(exc):
        return TransientError(message)
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in NOT_FOUND_CODES:
            return AssetNotFoundError(message)
        if code == "NoSuchBucket":
            return AdForgeError(f"{message}; create the bucket or fix the store URI")
        if code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return AdForgeError(f"{message}; check the credentials in the standard AWS "
                                "chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)")
    return AdForgeError(message)


def s3_client(settings: S3Settings) -> Any:
    """A boto3 S3 client: standard credential chain, bounded retries and timeouts."""
    config = Config(
        region_name=settings.region,
        retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
        s3={"addressing_style": settings.addressing_style},
        signature_version="s3v4",
    )
    return boto3.session.Session().client("s3", endpoint_url=settings.endpoint_url,
                                          config=config)


def read_s3_object(uri: str, settings: S3Settings, max_bytes: int | None = None) -> bytes:
    """The bytes of one object named by an s3:// URI (an input: brief, kit, photo); with
    `max_bytes`, an object larger than that is refused from its size (a HEAD request)
    before any of it is downloaded."""
    bucket, key = parse_s3_uri(uri)
    client = s3_client(settings)
    try:
        if max_bytes is not None:
            size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
            if size > max_bytes:
                raise ImageInputError(
                    f"{uri} has {size:,} bytes, more than ADFORGE_IMAGES__MAX_BYTES "
                    f"({max_bytes:,}); export a smaller file, or raise the limit",
                    field="image")
        response = client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        return response["Body"].read()
    except (BotoCoreError, ClientError) as exc:
        raise translate_s3_error(exc, "GET", uri) from exc


class S3Store(AssetStore):
    """Objects under `s3://bucket/prefix/`; see the module docstring for the spool."""

    def __init__(self, bucket: str, prefix: str, settings: S3Settings, spool_root: Path) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.settings = settings
        self.client = s3_client(settings)
        self.spool = Path(spool_root).expanduser().resolve() / bucket / self.prefix
        self.offline = False
        self._base_uri = f"s3://{bucket}/" + (f"{self.prefix}/" if self.prefix else "")
        mib = 1024 * 1024
        self._transfer = TransferConfig(
            multipart_threshold=settings.multipart_threshold_mb * mib,
            multipart_chunksize=settings.multipart_chunk_mb * mib)

    @classmethod
    def from_uri(cls, uri: str, settings: S3Settings, spool_root: Path) -> S3Store:
        bucket, prefix = parse_s3_uri(uri)
        return cls(bucket, prefix, settings, spool_root)

    def __repr__(self) -> str:
        return f"S3Store({self._base_uri!r})"

    @property
    def base_uri(self) -> str:
        return self._base_uri

    @property
    def is_remote(self) -> bool:
        return True

    def local_folders(self) -> list[Path]:
        return [self.spool]

    # --- the AssetStore interface --------------------------------------------------------

    def put_bytes(self, key: str, data: bytes | bytearray | memoryview,
                  content_type: str = "application/octet-stream", *,
                  durable: bool = True) -> str:
        """The spool copy is always flushed to disk: while the endpoint is away it is the
        only copy (`durable` is for local stores)."""
        key = self.key_of(key)
        path = write_file_atomic(self.spool_path(key), data)
        if not self.offline:
            try:
                self._upload(key, bytes(data), content_type)
                path.unlink(missing_ok=True)
            except TransientError as exc:
                self._go_offline(exc)
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        key = self.key_of(key)
        try:
            return self.spool_path(key).read_bytes()
        except FileNotFoundError:
            pass  # not spooled (or uploaded meanwhile by another process): read S3
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._full(key),
                                              ChecksumMode="ENABLED")
            return response["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, "GET", self.uri(key)) from exc

    def exists(self, key: str) -> bool:
        key = self.key_of(key)
        if self.spool_path(key).is_file():
            return True
        if self.offline:
            return False  # computing it again gives the same content key: safe
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._full(key))
            return True
        except (BotoCoreError, ClientError) as exc:
            error = translate_s3_error(exc, "HEAD", self.uri(key))
            if isinstance(error, AssetNotFoundError):
                return False
            if isinstance(error, TransientError):
                self._go_offline(error)
                return False
            raise error from exc

    def delete(self, key: str) -> None:
        key = self.key_of(key)
        self.spool_path(key).unlink(missing_ok=True)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key))
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, "DELETE", self.uri(key)) from exc

    # --- S3 specifics --------------------------------------------------------------------

    def presign(self, key_or_uri: str) -> str:
        return self.presigned_url(key_or_uri)

    def presigned_url(self, key: str, expires_s: int | None = None) -> str:
        """A time-limited https GET link to an object (no credentials needed to open it)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._full(self.key_of(key))},
            ExpiresIn=expires_s or self.settings.presign_expiry_s)

    def spool_path(self, key: str) -> Path:
        return self.spool.joinpath(*PurePosixPath(check_key(key)).parts)

    def pending_keys(self) -> list[str]:
        """Keys written to the spool and not uploaded yet (temporary files excluded)."""
        if not self.spool.is_dir():
            return []
        return sorted(path.relative_to(self.spool).as_posix() for path in self.spool.rglob("*")
                      if path.is_file() and not is_temp_name(path.name))

    def flush_pending(self) -> int:
        """Upload everything the spool holds; returns how many objects went up.

        Raises `TransientError` while S3 stays unreachable (the spool is kept)."""
        uploaded = 0
        for key in self.pending_keys():
            path = self.spool_path(key)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # a concurrent writer or flush uploaded it
            self._upload(key, data, content_type_of(key))
            path.unlink(missing_ok=True)
            uploaded += 1
        self.offline = False
        return uploaded

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _cache_control(self, key: str) -> str:
        mutable = key.startswith("runs/")
        return (self.settings.cache_control_mutable if mutable
                else self.settings.cache_control_immutable)

    def _upload(self, key: str, data: bytes, content_type: str) -> None:
        """Upload one object (the spool copy is dropped by the caller). Big ones go
        multipart; the transfer manager aborts a multipart upload that fails."""
        digest = hashlib.sha256(data)
        extra = {"ContentType": content_type, "CacheControl": self._cache_control(key),
                 "Metadata": {"sha256": digest.hexdigest()}}
        try:
            if len(data) >= self._transfer.multipart_threshold:
                self.client.upload_fileobj(io.BytesIO(data), self.bucket, self._full(key),
                                           ExtraArgs=extra | {"ChecksumAlgorithm": "SHA256"},
                                           Config=self._transfer)
            else:
                checksum = base64.b64encode(digest.digest()).decode()
                self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data,
                                       ChecksumSHA256=checksum, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, "PUT", self.uri(key)) from exc
        except Exception as exc:  # the transfer manager wraps failures in its own types
            cause = exc.__cause__ or exc.__context__
            if cause is not None and is_transient_s3_error(cause):
                raise TransientError(redact(f"S3 PUT {self.uri(key)}: {cause}")) from exc
            raise

    def _go_offline(self, error: BaseException) -> None:
        if not self.offline:
            log.warning("%s; working from the local spool %s until S3 answers again",
                        error, self.spool)
        self.offline = True

