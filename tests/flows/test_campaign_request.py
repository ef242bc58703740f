"""CampaignRequest (the UI form's model), chunk splitting and notification messages."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from adforge.brief import write_brief
from adforge.demo import DEMO_COPY
from flows.campaign_request import CampaignRequest, Language, Platform, skus_in_language
from flows.notify import campaign_message
from flows.scale import split


def test_request_defaults_to_every_platform_and_classic() -> None:
    request = CampaignRequest(brief_uri="brief.csv")
    assert request.platforms == list(Platform)
    assert request.profile.value == "classic" and request.language is Language.any


def test_request_refuses_an_unknown_platform_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignRequest(brief_uri="brief.csv", platforms=["myspace_banner"])
    assert caught.value.errors()[0]["loc"] == ("platforms", 0)


def test_schema_carries_descriptions_and_enums() -> None:
    schema = CampaignRequest.model_json_schema()
    assert schema["properties"]["brief_uri"]["description"].startswith("Path of the campaign")
    assert schema["$defs"]["Language"]["enum"] == ["any", "en", "ko", "zh", "ja"]


def test_language_picks_the_rows_in_that_language(tmp_path: Path) -> None:
    rows = [{**DEMO_COPY[kind], "image": f"{kind}.png"} for kind in ("bottle", "box", "jar")]
    write_brief(rows, tmp_path / "brief.csv")
    brief = str(tmp_path / "brief.csv")
    assert skus_in_language(brief, Language.en) == ["HB-GIFTBOX-02"]
    assert skus_in_language(brief, Language.ko) == ["HB-BOTTLE-01"]
    assert skus_in_language(brief, Language.any) is None


def test_split_keeps_every_sku_once_in_order() -> None:
    skus = [f"S{i}" for i in range(7)]
    assert split(skus, 3) == [["S0", "S1", "S2"], ["S3", "S4", "S5"], ["S6"]]


def test_message_names_the_run_and_its_state() -> None:
    run = SimpleNamespace(name="brave-otter", id="f-1", flow_id="x")
    state = SimpleNamespace(name="Failed", type=SimpleNamespace(value="FAILED"),
                            message="brief.csv does not exist")
    subject, body = campaign_message(run, state)
    assert subject == "AdForge brave-otter: Failed"
    assert "brief.csv does not exist" in body
