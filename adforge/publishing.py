"""Where published results point, for a local store or a remote (S3) one (Prefect-free).

The output folder stays local (`outputs/<run>/<sku>/<platform>.png`): it is what a user
opens and what the contact sheet is built from. With a remote store the tracking database
points at the stored objects instead (`renditions.uri` = `s3://bucket/prefix/text/blobs/...`,
the content-addressed rendition), and the HTML report is uploaded beside the run's
records (`runs/<run>/report.html`, `report-002.html`... and the contact sheet's pages)
with presigned https links for every image and page.

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


def run_key(run_id: str, name: str) -> str:
    """Where a file of the run's output folder goes beside the run's records:
    `runs/<run>/<name>` (`name` relative to the run's folder, as `review/review_sheet-001.png`)."""
    return f"runs/{run_id}/{name}"


def run_link(assets: AssetStore, run_id: str, name: str) -> str:
    """A presigned link to `runs/<run>/<name>` (the key itself where none can be made)."""
    key = run_key(run_id, name)
    return assets.presign(key) or key


def upload_pages(assets: AssetStore, folder: Path, run_id: str, pages: list[Path]) -> list[str]:
    """A sheet's pages for a report or an artifact: with a remote store each is uploaded
    beside the run's records (one page in memory at a time) and its presigned link
    returned; with a local one, the pages' paths relative to the run's `folder`."""
    names = [page.relative_to(folder).as_posix() for page in pages]
    if not assets.is_remote:
        return names
    for page, name in zip(pages, names, strict=True):
        assets.put_bytes(run_key(run_id, name), page.read_bytes(), "image/png")
    return [run_link(assets, run_id, name) for name in names]
