"""The results webhook: when a run ends, one signed JSON document to a URL (Prefect-free).

    POST <ADFORGE_DELIVERY__WEBHOOK_URL>
    Content-Type: application/json
    X-AdForge-Run: <run id>
    X-AdForge-Timestamp: <unix seconds when this attempt was signed>
    X-AdForge-Signature: sha256=<hex HMAC-SHA256 of b"<timestamp>." + body, keyed with
                         ADFORGE_DELIVERY__WEBHOOK_SECRET>

The document (`results_document`) holds the run's id, status and counts, and per product
every published rendition: platform, size, bytes, format (the file's extension), a URL
that opens it (presigned for an S3 store, `file://` for a local one), its sha256 and the
backends that made it. The receiver checks the signature over the exact bytes it got and
refuses an old timestamp (`verify_signature`), so a captured request cannot be replayed
later; each attempt is signed afresh.

Every attempt is a row of the `deliveries` table. A 5xx, a 429, a timeout or a connection
error is retried with exponential backoff; another 4xx is not (the receiver refused this
document, and would refuse it again). Delivering never raises: a run whose receiver is
down still completes, and its report shows the failed attempts; `adforge deliver RUN`
posts again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from adforge.db import Database, reviews
from adforge.db import repository as repo
from adforge.db.models import VARIANT_ONLY_STATUSES
from adforge.errors import AdForgeError
from adforge.publishing import presigner
from adforge.settings import DeliverySettings
from adforge.stagecache import RunConfig, database, store
from adforge.storage import AssetStore, sha256_bytes
from adforge.variants import split_key

SIGNATURE_HEADER = "X-AdForge-Signature"
TIMESTAMP_HEADER = "X-AdForge-Timestamp"
RUN_HEADER = "X-AdForge-Run"
MAX_AGE_S = 300  # what a receiver should accept: a signed timestamp at most this old
RETRY_ALSO = frozenset({429})  # "too many requests": worth another try, unlike other 4xx

DeliveryStatus = Literal["delivered", "failed", "off"]


@dataclass(frozen=True)
class DeliveryResult:
    """How posting a run's results ended: `off` when no webhook is set."""

    status: DeliveryStatus
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def words(self) -> str:
        """`delivered (HTTP 200, 2 attempts)`, `failed after 4 attempts: HTTP 503 ...`."""
        if self.status == "off":
            return "no results webhook set"
        tries = f"{self.attempts} attempt{'' if self.attempts == 1 else 's'}"
        if self.status == "delivered":
            return f"delivered (HTTP {self.status_code}, {tries})"
        return f"failed after {tries}: {self.error}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------
# Delivering
# ---------------------------------------------------------------------------------------


def deliver_run(cfg: RunConfig) -> DeliveryResult:
    """Post the run's results to its webhook as the run ends (see `deliver`)."""
    return deliver(database(cfg.db_url), cfg.run_id, store(cfg), cfg.delivery)


def deliver(db: Database, run_id: str, assets: AssetStore,
            settings: DeliverySettings) -> DeliveryResult:
    """Post the run's results document to `settings.webhook_url`, retrying as the module
    says, each attempt recorded. Never raises: whatever goes wrong is the result's
    `error` (and a row, where the database answers)."""
    if settings.webhook_url is None:
        return DeliveryResult("off")
    url = settings.webhook_url.get_secret_value()
    try:
        return _deliver(db, run_id, assets, url, settings)
    except Exception as error:  # a delivery never fails the run, whatever went wrong
        problem = f"{type(error).__name__}: {error}".replace(url, shown_url(url))
        return DeliveryResult("failed", error=problem)


def _deliver(db: Database, run_id: str, assets: AssetStore, url: str,
             settings: DeliverySettings) -> DeliveryResult:
    # 1. Attempts continue the run's numbering (a resend follows the run's own tries)
    first = len(repo.deliveries(db, run_id)) + 1

    def record(attempt: int, code: int | None, error: str | None, seconds: float) -> None:
        repo.record_delivery(db, run_id=run_id, url=shown_url(url), attempt=first + attempt,
                             status_code=code, ok=error is None, error=error, seconds=seconds)

    # 2. The document; one that cannot be made (a file gone, S3 down) is a failed attempt
    try:
        body = encode_document(results_document(db, run_id, assets))
    except (AdForgeError, OSError) as error:
        problem = f"the results document could not be made: {error}"
        record(0, None, problem, 0.0)
        return DeliveryResult("failed", 1, error=problem)
    # 3. Post it, retrying what may pass on another try
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return post_with_retries(url, body, run_id, secret, settings, record)


Recorder = Callable[[int, int | None, str | None, float], None]


def post_with_retries(url: str, body: bytes, run_id: str, secret: str | None,
                      settings: DeliverySettings, record: Recorder) -> DeliveryResult:
    """POST `body` until it is accepted (2xx), a 4xx refuses it, or the retries are spent;
    `record(attempt index, status code, error, seconds)` after every attempt."""
    code: int | None = None
    error: str | None = None
    attempt = 0
    with httpx.Client(timeout=settings.timeout_s, follow_redirects=False) as client:
        for attempt in range(settings.retries + 1):
            if attempt:
                time.sleep(settings.backoff_s * 2 ** (attempt - 1))
            started = time.perf_counter()
            code, error = _post_once(client, url, body, signed_headers(body, run_id, secret))
            record(attempt, code, error, time.perf_counter() - started)
            if error is None:
                return DeliveryResult("delivered", attempt + 1, code)
            if not is_retryable(code):
                break
    return DeliveryResult("failed", attempt + 1, code, error)


def _post_once(client: httpx.Client, url: str, body: bytes,
               headers: dict[str, str]) -> tuple[int | None, str | None]:
    """(status code, None) when accepted; else what went wrong, in a line."""
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TransportError as error:  # timeouts, refused or reset connections
        return None, f"{type(error).__name__}: {error}".removesuffix(": ")
    if response.is_success:
        return response.status_code, None
    answer = " ".join(response.text.split())[:200]
    return response.status_code, (f"HTTP {response.status_code} {response.reason_phrase}"
                                  f"{': ' + answer if answer else ''}")


def is_retryable(status_code: int | None) -> bool:
    """No answer (timeout, connection error), a 5xx or a 429: another try may pass."""
    return status_code is None or status_code >= 500 or status_code in RETRY_ALSO


def shown_url(url: str) -> str:
    """The webhook as recorded and shown (the report may be shared): its scheme, host
    and port only, for tokens hide in the rest (Slack-style webhooks carry theirs in
    the path, others in the query or as a user name)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, "", "", ""))


# ---------------------------------------------------------------------------------------
# Signing (and how a receiver verifies)
# ---------------------------------------------------------------------------------------


def signature(body: bytes, secret: str, timestamp: int) -> str:
    """`sha256=<hex>`: HMAC-SHA256 over b"<timestamp>." + body, keyed with the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(body: bytes, run_id: str, secret: str | None,
                   now: float | None = None) -> dict[str, str]:
    """The headers of one attempt; unsigned (no signature header) without a secret."""
    timestamp = int(time.time() if now is None else now)
    headers = {"Content-Type": "application/json", "User-Agent": "AdForge",
               RUN_HEADER: run_id, TIMESTAMP_HEADER: str(timestamp)}
    if secret:
        headers[SIGNATURE_HEADER] = signature(body, secret, timestamp)
    return headers


def verify_signature(body: bytes, timestamp: str, signed: str, secret: str, *,
                     max_age_s: int = MAX_AGE_S, now: float | None = None) -> bool:
    """What a receiver checks: the signature matches the body it received under this
    timestamp, and the timestamp is at most `max_age_s` old (nor from the future)."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    age = (time.time() if now is None else now) - moment
    if not -max_age_s <= age <= max_age_s:
        return False
    return hmac.compare_digest(signature(body, secret, moment), signed)


# ---------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------


def encode_document(document: dict[str, Any]) -> bytes:
    """The body as sent (and signed): compact UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def results_document(db: Database, run_id: str, assets: AssetStore) -> dict[str, Any]:
    """What the webhook receives: the run, its counts, and per product (per variant:
    `variant` is its id, "" for a product with one) every published rendition (a product
    held for review or failed lists none; a drafted variant the final left out is not
    listed)."""
    summary = repo.run_summary(db, run_id)
    counts = reviews.counts(db, run_id)
    link = presigner(assets)
    products = [{"sku": split_key(product["sku"])[0], "variant": split_key(product["sku"])[1],
                 "name": product["name"], "status": product["status"],
                 "renditions": [rendition_entry(r, assets, link)
                                for r in product["renditions"]]}
                for product in summary["products"]
                if product["status"] not in VARIANT_ONLY_STATUSES]
    return {
        "run_id": run_id, "status": summary["status"], "brief": summary["brief"],
        "brand": summary["brand"], "profile": summary["profile"],
        "started_at": summary["started_at"], "finished_at": summary["finished_at"],
        "counts": {"products": counts.total, "published": counts.published,
                   "in_review": counts.in_review, "failed": counts.failed,
                   "renditions": sum(len(p["renditions"]) for p in products)},
        "products": products,
    }


def rendition_entry(rendition: dict[str, Any], assets: AssetStore,
                    link: Callable[[str], str] | None) -> dict[str, Any]:
    """One delivered file as the receiver sees it, read back to measure and hash it."""
    uri = rendition["uri"]
    data = _read_delivered(uri, assets)
    return {"platform": rendition["platform"], "width": rendition["width"],
            "height": rendition["height"], "bytes": len(data),
            "format": Path(uri).suffix.lstrip(".").lower(), "url": _url_of(uri, link),
            "uri": uri, "sha256": sha256_bytes(data), "backends": rendition["backends"]}


def _is_store_object(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def _read_delivered(uri: str, assets: AssetStore) -> bytes:
    """A rendition's bytes: the store object it names, or its local file."""
    if _is_store_object(uri):
        return assets.get_bytes(uri)
    return Path(uri.removeprefix("file://")).read_bytes()


def _url_of(uri: str, link: Callable[[str], str] | None) -> str:
    """A URL that opens the file: presigned for a store object, `file://` for a file."""
    if _is_store_object(uri):
        return link(uri) if link is not None else uri
    return Path(uri.removeprefix("file://")).resolve().as_uri()
