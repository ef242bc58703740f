"""Where published results point, for a local store or a remote (S3) one (Prefect-free).

The output folder stays local (`outputs/<run>/<sku>/<platform>.png`): it is what a user
opens and what the contact sheet is built from. With a remote store the tracking database
points at the stored objects instead (`renditions.uri` = `s3://bucket/prefix/text/blobs/...`,
the content-addressed rendition), and the HTML report is uploaded beside the run's
records (`runs/<run>/report.html`) with presigned https links for every image.

Nothing here asks which kind of store it holds: `AssetStore.is_remote`, `flush_pending`
and `presign` answer for a local folder with "no", 0 and None.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adforge.storage import AssetStore


def rendition_uri(assets: AssetStore, local_file: Path, key: str) -> str:
    """The URI recorded for a rendition: its remote object, or the local output file."""
    return assets.uri(key) if assets.is_remote else str(local_file)


def upload_pending(assets: AssetStore) -> int:
    """Upload what a remote store holds in its spool (TransientError while S3 is down)."""
    return assets.flush_pending()


def presigner(assets: AssetStore) -> Callable[[str], str] | None:
    """A function from store URI to presigned https link, for a remote store."""
    if not assets.is_remote:
        return None

    def link(uri: str) -> str:
        return assets.presign(uri) or uri

    return link


def upload_contact_sheet(assets: AssetStore, run_id: str, sheet: Path) -> str:
    """The contact sheet's address for the report: presigned when remote, else relative."""
    if not assets.is_remote or not sheet.is_file():
        return "contact_sheet.png"
    key = f"runs/{run_id}/contact_sheet.png"
    assets.put_bytes(key, sheet.read_bytes(), "image/png")
    return assets.presign(key) or "contact_sheet.png"
