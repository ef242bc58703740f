"""The full-size GPU benchmark's code path, run end to end at tiny scale on the CPU: a
batch of products, each over the six platforms' canvases."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from benchmarks.gpu_full_size import main  # noqa: E402

STAGES = ["segment", "background", "layout", "text"]
PLATFORMS = ["instagram_post", "instagram_portrait", "instagram_story", "blog_header",
             "blog_thumbnail", "twitter_card"]


@pytest.fixture()
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a run changes for the process (the CUDA allocator setting) is put back
    afterwards."""
    monkeypatch.delenv("PYTORCH_CUDA_ALLOC_CONF", raising=False)


def check_recipe(recipe: dict, floor_s: float, products: int) -> None:
    assert recipe["error"] is None
    assert recipe["products"] == products and recipe["canvases"] == 6 * products
    assert recipe["seconds_per_product"] > 0 and recipe["load_s"] > 0
    assert recipe["ratio_to_floor"] == pytest.approx(recipe["seconds_per_product"] / floor_s)
    per_product = (recipe["load_s"] + recipe["unload_s"]) / products
    assert recipe["load_unload_s_per_product"] == pytest.approx(per_product)
    assert recipe["load_unload_pct_of_compute"] == pytest.approx(
        100 * per_product / recipe["seconds_per_product"])
    assert recipe["total_s_per_product"] == pytest.approx(
        recipe["seconds_per_product"] + per_product)
    assert recipe["peak_gib"] is None  # not measured on the CPU


def test_tiny_scale_runs_every_stage_over_every_canvas_by_both_recipes(isolated, capsys):
    assert main(["--scale", "tiny", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["scale"], report["batch"], report["naive_products"]) == ("tiny", 2, 1)
    assert list(report["platforms"]) == PLATFORMS
    assert report["platforms"]["instagram_story"] == [1080, 1920]
    # the gpu-24gb recipe: a (random) distilled LoRA, its steps, CFG off
    assert (report["edit_recipe"], report["edit_true_cfg_scale"]) == ("lightning", 1.0)
    rows = {row["stage"]: row for row in report["stages"]}
    assert list(rows) == STAGES
    for row in rows.values():
        assert row["floor_s"] > 0 and row["weights_gb"] > 0
        check_recipe(row["adforge"], row["floor_s"], products=2)
        check_recipe(row["naive"], row["floor_s"], products=1)
        assert row["speedup"] == pytest.approx(row["naive"]["total_s_per_product"]
                                               / row["adforge"]["total_s_per_product"])
    # the residency manager placed each model as the 24 GiB plan does (nf4 needs
    # bitsandbytes; without it the text stage takes the next lighter placement)
    placements = {stage: row["adforge"]["placement"] for stage, row in rows.items()}
    assert placements["segment"] == placements["layout"] == "resident"
    assert placements["background"] == "fp8"
    assert placements["text"] in ("nf4", "group_offload")
    assert rows["background"]["naive"]["placement"] == "model_offload"
    assert report["totals"]["speedup"] > 0
    assert report["totals"]["speedup_stages"] == STAGES


def test_the_table_names_each_stage_its_placement_and_speedup(isolated, capsys):
    assert main(["--scale", "tiny", "--stages", "segment,layout"]) == 0
    out = capsys.readouterr().out
    assert "segment     adforge  resident" in out and "layout" in out
    assert "speed-up vs naive: x" in out and "background" not in out.split("note:")[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine could run full scale")
def test_full_scale_without_cuda_exits_2_with_what_to_do(isolated, capsys):
    assert main(["--stages", "segment"]) == 2
    err = capsys.readouterr().err
    assert "needs a CUDA GPU" in err and "--scale tiny" in err and "--dry-run" in err


def test_dry_run_prints_the_floors_without_loading(capsys):
    assert main(["--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["stage"] for row in report["floors"]] == STAGES
    assert report["batch"] == 8 and report["floor_s_per_product"] > 0
    assert report["platforms"] == PLATFORMS
    assert main(["--dry-run", "--json", "--edit-recipe", "full"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["floor_s_per_product"] > 3 * report["floor_s_per_product"]
    assert main(["--dry-run", "--scale", "tiny", "--platforms", "blog_header"]) == 0
    out = capsys.readouterr().out
    assert "compute floors" in out and "1 canvas each (blog_header)" in out


def test_bad_stage_and_platform_names_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--scale", "tiny", "--stages", "segment,paint"])
    assert exit_info.value.code == 2
    assert "unknown paint" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--scale", "tiny", "--platforms", "billboard"])
    assert exit_info.value.code == 2
    assert "unknown platform 'billboard'" in capsys.readouterr().err


def test_the_birefnet_stand_in_keeps_the_contract():
    from transformers import SwinConfig

    from benchmarks.birefnet_standin import SwinSegmenterStandIn

    swin = SwinConfig(image_size=64, embed_dim=8, depths=[1, 1], num_heads=[1, 1],
                      window_size=4, out_features=["stage1", "stage2"])
    outputs = SwinSegmenterStandIn(swin, width=8).eval()(torch.zeros(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outputs] == [(2, 1, 64, 64)] * 2


def test_random_weights_are_finite_and_keep_ties():
    from transformers import T5Config, T5EncoderModel

    from benchmarks.gpu_weights import materialise, random_checkpoint

    config = T5Config(d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, vocab_size=64)
    checkpoint = random_checkpoint(lambda: T5EncoderModel(config), torch.float32, "cpu")
    model = materialise(checkpoint)
    assert model.shared.weight is model.encoder.embed_tokens.weight
    assert model.shared.weight.data_ptr() == checkpoint.tensors["shared.weight"].data_ptr()
    hidden = model(input_ids=torch.arange(10)[None]).last_hidden_state
    assert torch.isfinite(hidden).all() and hidden.std() > 0.01
