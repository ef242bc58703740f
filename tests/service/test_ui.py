"""The Prefect UI in headless Chromium: the CampaignRequest form and the artifacts."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_OUTPUT
from tests.service import browser
from tests.service.conftest import Service

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(browser.chromium() is None,
                                 reason="chromium is not installed: run scripts/install.sh test")]


def test_manual_deployment_run_page_shows_the_campaign_request_form(
        prefect_service: Service) -> None:
    deployment = prefect_service.api.deployment("brand-content/manual")
    url = f"{prefect_service.ui_url}/deployments/deployment/{deployment['id']}/run"

    text = browser.page_text(url)
    browser.screenshot(url, TEST_OUTPUT / "ui_campaign_request_form.png")
    for label in ("Brief", "Brand kit", "Platforms", "Profile", "Language"):
        assert label in text, f"{label!r} not on the run form"
    assert "Platform presets to render every product for" in text
    assert "Render only the brief's rows in this language" in text


def test_finished_run_page_shows_the_contact_sheet_artifact(
        prefect_service: Service, manual_run: dict) -> None:
    url = f"{prefect_service.ui_url}/runs/flow-run/{manual_run['id']}?tab=Artifacts"

    dom = browser.page_dom(url)
    browser.screenshot(url, TEST_OUTPUT / "ui_flow_run_artifacts.png")
    assert manual_run["name"] in dom
    assert "contact-sheet" in dom
    assert "campaign-summary" in dom
    assert (TEST_OUTPUT / "ui_flow_run_artifacts.png").stat().st_size > 10_000
