"""`adforge models make-tiny | plan | pull`, and the tiny profile without ceremony."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adforge.model_settings import ModelSettings
from adforge.settings import Settings
from adforge.specs import PRESETS
from adforge_app.cli import app
from models.compute_floors import product_floors
from models.memory_modes import GIB
from models.profiles import MODELS, memory_plan

SIX = [(spec.width, spec.height) for spec in PRESETS.values()]


def test_plan_fits_every_model_in_24_gib_and_keeps_them_resident_in_80():
    small = {row.key: row for row in memory_plan("gpu-24gb")}
    big = {row.key: row for row in memory_plan("gpu-80gb")}
    assert all(row.device_gib <= 24 for row in small.values())
    assert small["birefnet"].placement == "resident"
    assert small["flux"].placement in ("fp8", "nf4")
    assert big["flux"].placement == "resident" and big["qwen2vl"].placement == "resident"
    assert all(entry.footprint.weights > GIB // 4 for entry in MODELS)


def test_plan_prints_the_table_and_refuses_unknown_profiles():
    result = CliRunner().invoke(app, ["models", "plan", "--profile", "gpu-24gb"])
    assert result.exit_code == 0, result.output
    assert "black-forest-labs/FLUX.1-schnell" in result.output and "fp8" in result.output
    refused = CliRunner().invoke(app, ["models", "plan", "--profile", "gpu-8gb"])
    assert refused.exit_code == 2 and "no memory plan" in refused.output


def test_pull_offline_lists_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    result = CliRunner().invoke(app, ["models", "pull", "--profile", "gpu-24gb"])
    assert result.exit_code == 1
    assert "5 model(s) missing (HF_HUB_OFFLINE is set)" in result.output
    assert "- Qwen/Qwen-Image-Edit-2509" in result.output
    assert "- lightx2v/Qwen-Image-Lightning (Qwen-Image-Edit-2509-Lightning-8steps" \
        in result.output  # the profile's LoRA: its one file, not the whole repo
    monkeypatch.setenv("ADFORGE_MODELS__QWEN2VL__SHARE_EDIT_TEXT_ENCODER", "true")
    monkeypatch.setenv("ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA", "none")
    shared = CliRunner().invoke(app, ["models", "pull", "--profile", "gpu-24gb"])
    assert "3 model(s) missing" in shared.output  # the edit model answers for Qwen2-VL
    assert "Qwen2-VL" not in shared.output and "Lightning" not in shared.output


def gpu_seconds(output: str) -> float:
    return float(re.search(r"total: ([\d.]+) GPU seconds per product", output).group(1))


def test_plan_prints_gpu_seconds_per_product_for_the_six_platforms():
    result = CliRunner().invoke(app, ["models", "plan", "--profile", "gpu-24gb"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "estimated GPU seconds per product, 6 canvases" in result.output
    for stage in ("segment", "background", "layout", "text"):
        assert re.search(rf"\b{stage}\b.*\d", result.output.split("GPU seconds")[1])
    assert "800 TFLOP/s" in result.output and "8 steps, 1 pass (LoRA)" in result.output
    assert "300 answer tokens" in result.output and "4 steps" in result.output
    assert gpu_seconds(result.output) > 0
    two = CliRunner().invoke(app, ["models", "plan", "--platforms",
                                   "blog_header,instagram_story"], env={"COLUMNS": "200"})
    assert "2 canvases: blog_header, instagram_story" in two.output
    assert 0 < gpu_seconds(two.output) < gpu_seconds(result.output)
    unknown = CliRunner().invoke(app, ["models", "plan", "--platforms", "billboard"])
    assert unknown.exit_code == 2 and "unknown platform" in unknown.output


def test_the_lora_recipe_costs_several_times_less_than_40_steps_with_cfg():
    lightning = ModelSettings().for_profile("gpu-24gb")
    full = ModelSettings(qwen_image_edit={"lora": None}).for_profile("gpu-24gb")
    cost = {name: {floor.stage: floor.floor_s for floor in product_floors(models, SIX)}
            for name, models in (("lightning", lightning), ("full", full))}
    assert cost["full"]["text"] > 5 * cost["lightning"]["text"]  # 80 passes against 8
    assert sum(cost["full"].values()) > 3 * sum(cost["lightning"].values())
    two = product_floors(lightning, SIX[:2])
    assert sum(f.floor_s for f in two) < sum(cost["lightning"].values())
    assert [f.stage for f in two] == ["segment", "background", "layout", "text"]


def fake_builders(monkeypatch: pytest.MonkeyPatch) -> None:
    """make-tiny's builders replaced by ones that only make the folders (fast)."""
    import models.tiny
    import models.tiny_qwen

    def folder(directory: Path, **_: object) -> Path:
        Path(directory).mkdir(parents=True)
        return Path(directory)

    for key in models.tiny.BUILDERS:
        monkeypatch.setitem(models.tiny.BUILDERS, key, folder)
    monkeypatch.setattr(models.tiny_qwen, "make_tiny_qwen_image_lora",
                        lambda directory: folder(directory) / "lora.safetensors")


def test_make_tiny_without_a_folder_writes_where_the_tiny_profile_looks(tmp_path,
                                                                         monkeypatch):
    """No ADFORGE_MODELS__TINY_ROOT: make-tiny writes under <ADFORGE_HOME>/models/tiny and
    `--profile tiny` finds them there; TINY_ROOT still overrides; nothing there: the
    error says what to run."""
    fake_builders(monkeypatch)
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ADFORGE_MODELS__TINY_ROOT", raising=False)
    result = CliRunner().invoke(app, ["models", "make-tiny"])
    assert result.exit_code == 0, result.output
    root = tmp_path / "home" / "models" / "tiny"
    assert "the tiny profile finds them" in result.output and "TINY_ROOT" not in result.output
    assert (root / "tiny-flux").is_dir() and (root / "tiny-qwen-image-edit-2509").is_dir()
    models = Settings(profile="tiny").run_models()
    assert models.flux.source == str(root / "tiny-flux") and models.tiny_root == root
    monkeypatch.setenv("ADFORGE_MODELS__TINY_ROOT", str(tmp_path / "elsewhere"))
    assert Settings(profile="tiny").run_models().flux.source == \
        str(tmp_path / "elsewhere" / "tiny-flux")
    monkeypatch.delenv("ADFORGE_MODELS__TINY_ROOT")
    monkeypatch.setenv("ADFORGE_HOME", str(tmp_path / "new-home"))
    with pytest.raises(ValueError, match="run `adforge models make-tiny`"):
        Settings(profile="tiny").run_models()


def test_the_tiny_profile_loads_its_models_from_the_home_folder(tiny_root, tiny_models,
                                                                 tmp_path):
    """The real load: a home whose models/tiny holds the checkpoints, and nothing else set."""
    from adforge.brandkit import BUILTIN_STYLES
    from adforge.specs import rendition_spec
    from models.contracts import BackgroundRequest
    from models.registry import backend

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny").symlink_to(tiny_root, target_is_directory=True)
    models = Settings(profile="tiny", home=tmp_path).run_models()
    generator = backend("background", "flux", models)
    header = rendition_spec("blog_header")
    request = BackgroundRequest(width=header.width, height=header.height, seed=1,
                                style=BUILTIN_STYLES["ocean"])
    assert generator.generation_size(request) == (64, 32)  # 2:1, the header's aspect
    assert generator.generate(request).shape == (600, 1200, 3)


@pytest.mark.slow
def test_make_tiny_writes_all_four_checkpoints(tmp_path):
    pytest.importorskip("diffusers")
    result = CliRunner().invoke(app, ["models", "make-tiny", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for folder in ("tiny-birefnet", "tiny-flux", "tiny-qwen2vl", "tiny-qwen-image-edit-2509"):
        assert (tmp_path / folder).is_dir()
    index = json.loads((tmp_path / "tiny-flux" / "model_index.json").read_text())
    assert index["_class_name"] == "FluxPipeline"
    assert "ADFORGE_MODELS__QWEN_IMAGE_EDIT__SOURCE=" in result.output
    assert "ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA=" in result.output
    assert (tmp_path / "tiny-qwen-image-edit-lora" / "tiny-lightning-lora.safetensors").is_file()
