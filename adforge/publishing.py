"""Where published results point, for a local store or an S3 store (Prefect-free).

The output folder stays local (`outputs/<run>/<sku>/<platform>.png`): it is what a user
opens and what the contact sheet is built from. With an S3 store the tracking database
points at the S3 objects instead (`renditions.uri` = `s3://bucket/prefix/rendition/...`,
the content-addressed rendition), and the HTML report is uploaded beside the run's
records (`runs/<run>/report.html`) with presigned https links for every image.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adforge.storage import AssetStore
from adforge.storage_s3 import S3Store


def is_s3(assets: AssetStore) -> bool:
    return isinstance(assets, S3Store)


def rendition_uri(assets: AssetStore, local_file: Path, key: str) -> str:
    """The URI recorded for a rendition: its S3 object, or the local output file."""
    return assets.uri(key) if is_s3(assets) else str(local_file)


def upload_pending(assets: AssetStore) -> int:
    """Upload what an S3 store holds in its spool (TransientError while S3 is down)."""
    return assets.flush_pending() if isinstance(assets, S3Store) else 0


def presigner(assets: AssetStore) -> Callable[[str], str] | None:
    """A function from s3:// URI to presigned https link, for an S3 store."""
    return assets.presigned_url if isinstance(assets, S3Store) else None


def upload_report(assets: AssetStore, run_id: str, page: bytes) -> str | None:
    """Put the report next to the run's records; returns its presigned link (S3 only)."""
    if not isinstance(assets, S3Store):
        return None
    key = f"runs/{run_id}/report.html"
    assets.put_bytes(key, page, "text/html; charset=utf-8")
    assets.flush_pending()
    return assets.presigned_url(key)


def upload_contact_sheet(assets: AssetStore, run_id: str, sheet: Path) -> str:
    """The contact sheet's address for the report: presigned on S3, relative locally."""
    if not isinstance(assets, S3Store) or not sheet.is_file():
        return "contact_sheet.png"
    key = f"runs/{run_id}/contact_sheet.png"
    assets.put_bytes(key, sheet.read_bytes(), "image/png")
    return assets.presigned_url(key)
