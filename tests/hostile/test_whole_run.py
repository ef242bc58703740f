"""Hostile inputs that make a whole run impossible: the brief file, the brand kit, the
settings and options. Each is refused in the run's first step, before any work, in a
few lines that say what, where and how to fix it, with exit code 2; nothing is
published and nothing half-written is left. The guesses a brief's CSV needs (another
separator, a legacy encoding) are not refusals: the run goes on and says what it read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.hostile.conftest import (
    EXIT_OK,
    PLATFORM,
    Campaign,
    good_row,
    nothing_published,
    refused,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def _one_good_brief(c: Campaign, name: str = "brief.csv") -> Path:
    return c.brief([good_row("OK-1", c.photo("ok.png"))], name)


# --- the brief file ---------------------------------------------------------------------


@pytest.mark.parametrize("name, content, words", [
    ("brief.csv", b"", ("the brief file is empty",)),
    ("brief.csv", b"sku,image,headline\n", ("no product rows",)),
    ("brief.csv", b"sku,image\nA,photos/ok.png\n", ("required column is missing",
                                                    "add a 'headline' column")),
    ("brief.txt", b"sku,image,headline\n", ("not a supported brief format",)),
    ("brief.xlsx", b"this is not a zip file", ("cannot be read as Excel",)),
    ("brief.csv", "sku,image,headline\nA,photos/ok.png,안녕\n".encode("cp949"),
     ("not UTF-8", "save it as 'CSV UTF-8'")),
], ids=["empty-brief", "header-only", "missing-column", "unsupported-format",
        "garbage-xlsx", "korean-legacy-encoding"])
def test_an_unreadable_brief_is_one_message(campaign: Campaign, name: str, content: bytes,
                                            words: tuple[str, ...]) -> None:
    campaign.photo("ok.png")
    result = campaign.run(campaign.file(name, content))
    refused(result, name, *words)
    nothing_published(campaign)


def test_a_missing_brief_file(campaign: Campaign) -> None:
    result = campaign.run(campaign.inputs / "nope.csv")
    refused(result, "nope.csv", "does not exist")
    nothing_published(campaign)


def test_a_fifo_as_the_brief_is_not_read(campaign: Campaign) -> None:
    os.mkfifo(campaign.inputs / "brief.csv")
    refused(campaign.run(campaign.inputs / "brief.csv"), "not a regular file", "FIFO")
    nothing_published(campaign)


def test_a_semicolon_separated_csv_is_read_with_a_note(campaign: Campaign) -> None:
    photo = campaign.photo("ok.png")
    brief = campaign.file("brief.csv", f"sku;image;headline\nOK-1;{photo};Semicolons\n")
    result = campaign.run(brief)
    assert result.exit_code == EXIT_OK, result.output
    assert campaign.published() == {("OK-1", PLATFORM)}
    warnings = campaign.rows("select message from errors where kind = 'warning'")
    assert any("separated by semicolons" in w for (w,) in warnings), warnings


def test_a_western_legacy_csv_is_read_with_a_note(campaign: Campaign) -> None:
    photo = campaign.photo("ok.png")
    text = f"sku,image,headline\nOK-1,{photo},Café crème\n"
    result = campaign.run(campaign.file("brief.csv", text.encode("cp1252")))
    assert result.exit_code == EXIT_OK, result.output
    assert campaign.published() == {("OK-1", PLATFORM)}
    report = campaign.report()
    assert "not UTF-8: read it as Windows-1252" in report  # the guess, in the report
    assert campaign.rows("select count(*) from errors where kind != 'warning'") == [(0,)]


def test_a_utf8_bom_and_loose_header_names_are_read(campaign: Campaign) -> None:
    photo = campaign.photo("ok.png")
    text = f"\ufeff SKU ,Photo,HEADLINE,Call To Action\nOK-1,{photo},Hello,Buy\n"
    result = campaign.run(campaign.file("brief.csv", text))
    assert result.exit_code == EXIT_OK, result.output
    assert campaign.published() == {("OK-1", PLATFORM)}


def test_every_row_refused_is_a_failed_run(campaign: Campaign) -> None:
    brief = campaign.brief([good_row("BAD-1", "photos/nope.png")])
    result = campaign.run(brief)
    assert result.exit_code == 1 and "BAD-1" in result.output, result.output
    assert "Refused at validation" in campaign.report()
    nothing_published(campaign)


# --- the brand kit -----------------------------------------------------------------------


def test_a_missing_brand_kit(campaign: Campaign) -> None:
    result = campaign.run(_one_good_brief(campaign), kit=campaign.inputs / "nope.yaml")
    refused(result, "brand kit", "nope.yaml", "does not exist")
    nothing_published(campaign)


@pytest.mark.parametrize("text, words", [
    ("name: [unclosed\n", ("is not valid YAML",)),
    ("- just\n- a list\n", ("must be a mapping of fields",)),
    ("name: X\ncolors: {primary: '#GGG'}\n", ("field 'colors.primary'", "#GGG")),
    ("name: X\ncolours: {primary: '#000000'}\nfontz: {}\nlogo_path: logo.png\n",
     ("did you mean 'colors'?", "did you mean 'fonts'?", "did you mean 'logo'?")),
    ("name: X\nstyles:\n  sea: {top: '#000000', bottom: '#000000', floor: '#000000', "
     "horizn: 0.5}\n", ("styles.sea.horizn", "did you mean 'horizon'?")),
    ("name: X\nmood_image: moods/gone.jpg\n", ("field 'mood_image'", "was not found")),
    ("name: X\nlogo: logo.png\n", ("field 'logo'", "was not found")),
], ids=["invalid-yaml", "kit-not-a-mapping", "bad-hex-colour", "misspelled-kit-keys",
        "misspelled-style-key", "mood-image-missing", "logo-missing"])
def test_a_bad_brand_kit_is_one_message(campaign: Campaign, text: str,
                                        words: tuple[str, ...]) -> None:
    kit = campaign.file("brand.yaml", text)
    refused(campaign.run(_one_good_brief(campaign), kit=kit), "brand kit", *words)
    nothing_published(campaign)


def test_a_font_file_outside_the_kit_folder_is_refused(campaign: Campaign) -> None:
    font = campaign.root / "elsewhere" / "Brand.ttf"
    font.parent.mkdir()
    font.write_bytes(b"whatever")
    kit = campaign.kit(fonts={"headline": {"path": str(font)}})
    refused(campaign.run(_one_good_brief(campaign), kit=kit), "fonts.headline.path",
            "outside the brand kit's folder", "ADFORGE_INPUTS__ALLOW_OUTSIDE")
    nothing_published(campaign)


def test_an_unusable_brand_font_fails_before_the_work(campaign: Campaign) -> None:
    campaign.file("fonts/Brand.ttf", b"this is not a font")
    kit = campaign.kit(fonts={"headline": {"path": "fonts/Brand.ttf"}})
    refused(campaign.run(_one_good_brief(campaign), kit=kit), "font 'headline'",
            "not a readable font file")
    nothing_published(campaign)
    assert campaign.runs() == []  # refused before the run was opened


def test_a_9000_pixel_logo_fails_before_the_work(campaign: Campaign) -> None:
    Image.new("1", (9000, 9000), 1).save(campaign.inputs / "logo.png")  # 81 MP, small file
    kit = campaign.kit(logo="logo.png")
    refused(campaign.run(_one_good_brief(campaign), kit=kit), "logo", "9000x9000",
            "ADFORGE_IMAGES__MAX_PIXELS")
    nothing_published(campaign)


def test_a_logo_without_alpha_is_keyed_and_the_run_says_so(campaign: Campaign) -> None:
    logo = Image.new("RGB", (240, 80), "white")
    ImageDraw.Draw(logo).ellipse((20, 10, 220, 70), fill=(30, 60, 120))
    logo.save(campaign.inputs / "logo.jpg", quality=92)
    result = campaign.run(_one_good_brief(campaign), kit=campaign.kit(logo="logo.jpg"))
    assert result.exit_code == EXIT_OK, result.output
    assert campaign.published() == {("OK-1", PLATFORM)}
    assert "has no alpha channel" in campaign.report()
    ad = np.asarray(Image.open(next(campaign.out.glob(f"*/OK-1/{PLATFORM}.jpg"))))
    assert not (ad == 255).all(axis=2).sum() > 0.5 * ad.shape[0] * ad.shape[1]


# --- settings and options ----------------------------------------------------------------


@pytest.mark.parametrize("variable, value, words", [
    ("ADFORGE_IMAGES__MAX_PIXELS", "abc", ("ADFORGE_IMAGES__MAX_PIXELS=abc",
                                           "valid integer")),
    ("ADFORGE_PROFILE", "bogus", ("ADFORGE_PROFILE=bogus", "'classic'")),
    ("ADFORGE_DB_URL", "garbage", ("ADFORGE_DB_URL", "not a database URL")),
    ("ADFORGE_DB_URL", "oracle+nope://u@h/x", ("unknown database kind",)),
    ("ADFORGE_SCALE__PRODUCTS_PER_TASK", "-3", ("ADFORGE_SCALE__PRODUCTS_PER_TASK=-3",)),
], ids=["max-pixels-not-a-number", "unknown-profile", "garbage-db-url", "unknown-db-driver",
        "negative-batch"])
def test_a_bad_setting_names_its_environment_variable(campaign: Campaign, variable: str,
                                                      value: str,
                                                      words: tuple[str, ...]) -> None:
    result = campaign.run(_one_good_brief(campaign), env={variable: value})
    refused(result, *words)
    nothing_published(campaign)


def test_an_unreachable_database_fails_before_the_work(campaign: Campaign) -> None:
    secret = "S3CRETPW-" + os.urandom(4).hex()
    url = f"postgresql+psycopg://adforge:{secret}@127.0.0.1:1/adforge"
    output = refused(campaign.run(_one_good_brief(campaign), "--db", url),
                     "cannot be reached", "adforge:***@127.0.0.1:1")
    assert secret not in output
    assert campaign.files_containing(secret) == []
    nothing_published(campaign)


def test_an_output_folder_that_is_a_file(campaign: Campaign) -> None:
    blocker = campaign.file("not-a-folder", "x")
    refused(campaign.run(_one_good_brief(campaign), "--out", str(blocker)),
            "is a file, not a folder", "--out")
    nothing_published(campaign)


def test_an_output_folder_that_cannot_be_written(campaign: Campaign) -> None:
    refused(campaign.run(_one_good_brief(campaign), "--out", "/dev/null/ads"),
            "/dev/null/ads", "is not writable")
    nothing_published(campaign)


def test_an_unknown_platform_option_fails_before_the_work(campaign: Campaign) -> None:
    result = campaign.run(_one_good_brief(campaign), "--platforms", f"{PLATFORM},tiktok")
    refused(result, "unknown platform 'tiktok'", "--platforms")
    nothing_published(campaign)
    assert campaign.runs() == []


# --- inputs outside their root, allowed for trusted local use ---------------------------


def test_allow_outside_reads_an_outside_photo_but_never_a_device(campaign: Campaign) -> None:
    outside = campaign.root / "elsewhere" / "photo.png"
    outside.parent.mkdir()
    outside.write_bytes(campaign.photos["box"].read_bytes())
    brief = campaign.brief([good_row("OK-OUTSIDE", str(outside)),
                            good_row("BAD-DEVICE", "/dev/zero")])
    result = campaign.run(brief, env={"ADFORGE_INPUTS__ALLOW_OUTSIDE": "true"})
    assert result.exit_code == 3, result.output
    assert campaign.published() == {("OK-OUTSIDE", PLATFORM)}
    [(message,)] = campaign.rows("select message from errors where sku = 'BAD-DEVICE'")
    assert "is not a regular file (it is a character device)" in message
