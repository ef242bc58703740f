"""A paged contact sheet in the Prefect UI (a real temporary server): the first page as
the `contact-sheet` image, its description counting products and pages, and
`contact-sheet-pages` listing every page; a sheet of one page adds no list."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.context import get_run_context

from adforge.stages import publish
from tests.sheet_inputs import SIZES, record_products, sheet_config, synthetic_jobs

pytestmark = pytest.mark.usefixtures("prefect_harness")


def artifacts_of(flow_run_id: uuid.UUID) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    wanted = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        return {a.key: a for a in client.read_artifacts(artifact_filter=wanted)}


def publish_artifacts(folder: Path, products: int, page_size: int) -> tuple[uuid.UUID,
                                                                            list[Path]]:
    """The run's artifacts as the campaign flow's last step publishes them."""
    from flows.artifacts import publish_run_artifacts

    cfg = sheet_config(folder, page_size)
    jobs = synthetic_jobs(cfg, products)
    record_products(cfg, jobs)

    @flow(name="sheet-artifacts")
    def show() -> tuple[uuid.UUID, list[Path]]:
        pages = publish.write_contact_sheets(cfg, jobs, list(SIZES))
        publish_run_artifacts(cfg, pages, jobs, {"run_id": cfg.run_id})
        return get_run_context().flow_run.id, pages

    return show()


def test_a_paged_sheet_shows_its_first_page_and_lists_every_page(tmp_path: Path) -> None:
    flow_run_id, pages = publish_artifacts(tmp_path, products=5, page_size=2)
    artifacts = artifacts_of(flow_run_id)
    image = artifacts["contact-sheet"]
    assert image.data.startswith("data:image/jpeg;base64,")
    assert image.description == ("contact sheet of run run-sheets, page 1 of 3 (5 product(s), "
                                 "3 page(s) of 2); every page: `contact-sheet-pages`")
    listed = artifacts["contact-sheet-pages"].data
    assert len(pages) == 3 and "5 product(s), 3 page(s) of 2" in listed
    for number, page in enumerate(pages, 1):
        assert f"- page {number}: `{page.resolve()}`" in listed


def test_a_sheet_of_one_page_lists_nothing(tmp_path: Path) -> None:
    flow_run_id, pages = publish_artifacts(tmp_path, products=3, page_size=40)
    artifacts = artifacts_of(flow_run_id)
    assert len(pages) == 1 and "contact-sheet-pages" not in artifacts
    assert artifacts["contact-sheet"].description == (
        "contact sheet of run run-sheets, page 1 of 1 (3 product(s))")
