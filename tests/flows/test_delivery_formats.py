"""Delivered files as platforms take them in: a real campaign run under the Prefect
harness, its renditions opened from the output folder."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, ImageCms

from adforge.brief import write_brief
from adforge.demo import DEMO_COPY
from adforge.specs import PRESETS
from tests.campaign_inputs import write_campaign

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

GPS_TAG = 0x8825  # the EXIF pointer to the GPS block


def _with_gps(photo: Path) -> None:
    """Re-save the photo as a JPEG carrying a camera name and a GPS position."""
    with Image.open(photo) as image:
        exif = image.getexif()
        exif[0x010F] = "AdForge Test Camera"  # Make
        exif[GPS_TAG] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}
        image.convert("RGB").save(photo.with_suffix(".jpg"), "JPEG", exif=exif, quality=95)
    with Image.open(photo.with_suffix(".jpg")) as check:
        assert check.getexif().get_ifd(GPS_TAG), "the input must carry GPS for this test"


def test_delivered_renditions_are_srgb_jpeg_without_the_photos_metadata(
        adforge_env: Path) -> None:
    from flows.brand_content import brand_content

    folder = adforge_env / "in"
    brief, brand = write_campaign(folder, ("bottle", "box"), size=512)
    _with_gps(folder / "photos" / "bottle.png")
    rows = [{**DEMO_COPY["bottle"], "image": "photos/bottle.jpg"},
            {**DEMO_COPY["box"], "image": "photos/box.png", "format": "blog_header=webp:80"}]
    write_brief(rows, brief)

    result = brand_content(brief=str(brief), brand=str(brand))

    assert result["status"] == "completed", result["failed"]
    run = Path(result["out_dir"])
    for kind, row in zip(("bottle", "box"), rows, strict=True):
        for name, preset in PRESETS.items():
            webp = kind == "box" and name == "blog_header"
            path = run / row["sku"] / f"{name}.{'webp' if webp else 'jpg'}"
            with Image.open(path) as image:
                assert image.format == ("WEBP" if webp else "JPEG")
                assert image.size == (preset.width, preset.height)
                profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
                assert "sRGB" in ImageCms.getProfileDescription(profile)
                assert not image.getexif(), dict(image.getexif())  # no EXIF, so no GPS
                assert b"Test Camera" not in path.read_bytes()
            if name == "blog_thumbnail":
                assert path.stat().st_size <= 150_000
    engine = sa.create_engine(f"sqlite:///{adforge_env / 'state' / 'adforge.db'}")
    with engine.connect() as conn:
        uris = conn.execute(sa.text("select uri from renditions")).scalars().all()
    assert len(uris) == 12 and all(uri.endswith((".jpg", ".webp")) for uri in uris)


def test_a_budget_no_quality_can_meet_holds_the_canvas_for_review(
        adforge_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.brand_content import brand_content

    monkeypatch.setenv("ADFORGE_QUALITY__MAX_BYTES", '{"twitter_card": 2000}')
    brief, brand = write_campaign(adforge_env / "in", ("jar",), size=512)
    state = brand_content(brief=str(brief), brand=str(brand), platforms=[
        "twitter_card", "instagram_post"], return_state=True)

    outcome = state.result(raise_on_failure=False)
    assert state.name == "Partial" and outcome["status"] == "partial"
    sku = DEMO_COPY["jar"]["sku"]
    assert "bytes" in outcome["in_review"][sku] and "twitter_card" in outcome["in_review"][sku]
    run = Path(outcome["out_dir"])
    assert (run / sku / "instagram_post.jpg").is_file()
    assert not (run / sku / "twitter_card.jpg").exists()
    held = run / "review" / sku / "twitter_card.jpg"
    with Image.open(held) as image:
        assert image.format == "JPEG"
    assert held.stat().st_size > 2000
