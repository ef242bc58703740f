"""The `adforge` commands that need no Prefect server: samples, cutout, report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from adforge.brandkit import load_brand_kit
from adforge.brief import load_brief
from adforge.imaging.metrics import matte_iou
from adforge_app.cli import app

runner = CliRunner()


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "state"))
    return tmp_path


def test_samples_writes_photos_masks_and_a_valid_brief(isolated: Path) -> None:
    result = runner.invoke(app, ["samples", str(isolated / "s")])
    assert result.exit_code == 0, result.output
    kit = load_brand_kit(isolated / "s" / "brand.yaml")
    brief = load_brief(isolated / "s" / "brief.csv", brand_styles=kit.style_names())
    assert len(brief.rows) >= 6
    assert {row.copy.language for row in brief.rows} >= {"ko", "en", "zh"}
    for row in brief.rows:
        assert Path(row.image).is_file()
        assert Path(str(row.image).replace(".png", ".mask.png")).is_file()


def test_cutout_writes_an_rgba_cutout_close_to_the_true_mask(isolated: Path) -> None:
    runner.invoke(app, ["samples", str(isolated / "s")])
    photo = isolated / "s" / "photos" / "mug.png"
    out = isolated / "mug_cut.png"
    result = runner.invoke(app, ["cutout", str(photo), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rgba = np.asarray(Image.open(out))
    truth = np.asarray(Image.open(isolated / "s" / "photos" / "mug.mask.png")) > 127
    assert rgba.shape[2] == 4
    assert matte_iou(rgba[..., 3] / 255.0, truth) > 0.95


def test_cutout_of_a_non_image_names_the_file(isolated: Path) -> None:
    bad = isolated / "notes.png"
    bad.write_text("not an image")
    result = runner.invoke(app, ["cutout", str(bad), "-o", str(isolated / "x.png")])
    assert result.exit_code == 2
    assert "notes.png" in result.output


def test_report_without_runs_says_what_to_do(isolated: Path) -> None:
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 1
    assert "adforge demo" in result.output
