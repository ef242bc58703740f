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
    # The flow run's page (the UI's current version, under /v2), its Artifacts tab
    url = f"{prefect_service.ui_url}/v2/runs/flow-run/{manual_run['id']}?tab=Artifacts"
    text = browser.page_text(url)
    browser.screenshot(url, TEST_OUTPUT / "ui_flow_run_artifacts.png")
    assert manual_run["name"] in text
    for key in ("contact-sheet", "campaign-summary", "campaign-stages"):
        assert key in text, f"{key} not on the flow run's Artifacts tab"
    assert "contact sheet of run" in text
    # The contact-sheet artifact's own page shows the picture
    sheet = next(a for a in prefect_service.api.artifacts(manual_run["id"])
                 if a["key"] == "contact-sheet")
    url = f"{prefect_service.ui_url}/v2/artifacts/artifact/{sheet['id']}"
    assert "data:image/jpeg;base64," in browser.page_dom(url)
    browser.screenshot(url, TEST_OUTPUT / "ui_contact_sheet_artifact.png")
