"""Hostile input to the commands beside `run`: `report`, `cutout`, and `--debug`.

Each problem ends the command in a few lines with exit code 2 (bad input), except
`report` with no runs yet (exit 1, as before: nothing is wrong with the input). With
`--debug` or ADFORGE_DEBUG=1 the error goes on to the traceback instead.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from adforge.errors import InputError
from tests.hostile.conftest import EXIT_FAILED, EXIT_OK, Campaign, refused

# --- report ----------------------------------------------------------------------------


def test_report_of_an_unknown_run_id(campaign: Campaign) -> None:
    refused(campaign.adforge("report", "20990101-000000-abcdef"),
            "run 20990101-000000-abcdef is not in the tracking database", "check the id")


def test_report_with_no_runs_yet_says_what_to_do(campaign: Campaign) -> None:
    result = campaign.adforge("report")
    assert result.exit_code == EXIT_FAILED and "adforge demo" in result.output


def test_report_with_a_garbage_database_url(campaign: Campaign) -> None:
    refused(campaign.adforge("report", "--db", "not a url"), "not a database URL", "--db")


def test_report_with_an_unreachable_database_hides_the_password(campaign: Campaign) -> None:
    secret = "S3CRETPW-" + os.urandom(4).hex()
    block = refused(campaign.adforge("report", "--db",
                                     f"postgresql+psycopg://u:{secret}@127.0.0.1:1/x"),
                    "cannot be reached", "u:***@")
    assert secret not in block


# --- cutout ----------------------------------------------------------------------------


def test_cutout_into_a_folder_that_is_a_file(campaign: Campaign) -> None:
    blocker = campaign.file("blocker", "x")
    result = campaign.adforge("cutout", campaign.photo("a.png"), "-o", str(blocker / "a.png"))
    refused(result, "is a file, not a folder", "-o")


def test_cutout_of_a_missing_photo(campaign: Campaign) -> None:
    refused(campaign.adforge("cutout", "nope.png", "-o", str(campaign.root / "x.png")),
            "nope.png", "does not exist")


def test_cutout_of_a_fifo(campaign: Campaign) -> None:
    fifo = campaign.inputs / "pipe.png"
    os.mkfifo(fifo)
    refused(campaign.adforge("cutout", str(fifo), "-o", str(campaign.root / "x.png")),
            "not a regular file", "FIFO")


def test_cutout_of_a_4_gb_file_is_refused_unread(campaign: Campaign) -> None:
    huge = campaign.inputs / "huge.jpg"
    with huge.open("wb") as file:
        file.truncate(4 * 1024**3)
    refused(campaign.adforge("cutout", str(huge), "-o", str(campaign.root / "x.png")),
            "above the 100 MB limit", "ADFORGE_IMAGES__MAX_BYTES")


def test_cutout_of_a_text_file(campaign: Campaign) -> None:
    notes = campaign.file("notes.png", "not an image")
    refused(campaign.adforge("cutout", str(notes), "-o", str(campaign.root / "x.png")),
            "notes.png", "not an image Pillow can read")


def test_cutout_of_a_16_bit_grey_photo_finds_the_product(campaign: Campaign) -> None:
    """Defect 6: a grey photo of a clearly visible product was "no product found"."""
    grey = np.asarray(Image.open(campaign.photos["bottle"]).convert("L")).astype(np.uint16)
    photo = campaign.image("grey16.png", grey * 257)
    out = campaign.root / "cut.png"
    result = campaign.adforge("cutout", str(campaign.inputs / photo), "-o", str(out))
    assert result.exit_code == EXIT_OK, result.output
    confidence = float(result.output.rsplit("confidence ", 1)[1].split(")")[0])
    alpha = np.asarray(Image.open(out))[..., 3]
    assert confidence > 0.5 and 0.03 < (alpha > 127).mean() < 0.6


# --- --debug ---------------------------------------------------------------------------


def test_debug_option_shows_the_traceback(campaign: Campaign) -> None:
    result = campaign.adforge("--debug", "report", "nope")
    assert isinstance(result.exception, InputError)  # raised on, for the traceback


def test_debug_variable_shows_the_traceback(campaign: Campaign) -> None:
    result = campaign.adforge("report", "nope", env={"ADFORGE_DEBUG": "1"})
    assert isinstance(result.exception, InputError)


@pytest.mark.parametrize("value", ["0", ""])
def test_debug_variable_off_keeps_the_short_message(campaign: Campaign, value: str) -> None:
    refused(campaign.adforge("report", "nope", env={"ADFORGE_DEBUG": value}), "nope")
