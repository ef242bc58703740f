"""The BiRefNet segmenter on tiny checkpoints loaded through remote code, offline."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from adforge.imaging.matte import finish_cutout, resize_alpha  # noqa: E402
from models.contracts import Segmenter  # noqa: E402
from models.neural.birefnet import (  # noqa: E402
    BiRefNetSegmenter,
    ModelUnavailableError,
    mask_confidence,
)


def disc_photo(height: int, width: int, product=(220, 200, 60), backdrop=(30, 30, 40)):
    """A bright disc on a dark backdrop, with its true mask."""
    photo = np.empty((height, width, 3), np.uint8)
    photo[:] = backdrop
    truth = np.zeros((height, width), np.uint8)
    centre, radius = (width // 2, height // 2), min(height, width) // 4
    cv2.circle(truth, centre, radius, 1, -1, lineType=cv2.LINE_8)
    photo[truth.astype(bool)] = product
    return photo, truth.astype(bool)


@pytest.fixture(scope="module")
def brightness_birefnet(tiny_models: dict[str, Path], tmp_path_factory) -> Path:
    """The tiny checkpoint with weights set by hand: the finest logit map says
    'product' where the photo is bright. Saved and loaded like any checkpoint."""
    from transformers import AutoModelForImageSegmentation

    model = AutoModelForImageSegmentation.from_pretrained(tiny_models["birefnet"],
                                                          trust_remote_code=True)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        model.stem.weight[0, :, 1, 1] = 1.0  # sum of the normalised channels
        model.stem.bias[0] = 5.0
        model.heads[-1].weight[0, 0] = 1.0  # the last (finest) output reads it
        model.heads[-1].bias[0] = -5.0
        model.heads[0].bias[0] = -20.0  # the coarse outputs must not be used
    folder = tmp_path_factory.mktemp("bright-birefnet")
    model.save_pretrained(folder)
    for name in ("configuration_tiny_birefnet.py", "modeling_tiny_birefnet.py"):
        (folder / name).write_text((tiny_models["birefnet"] / name).read_text())
    return folder


def test_implements_the_segmenter_protocol(tiny_models):
    segmenter = BiRefNetSegmenter(str(tiny_models["birefnet"]), input_size=64)
    assert isinstance(segmenter, Segmenter) and segmenter.name == "birefnet"
    assert not segmenter.loaded  # nothing loads before the first photo


def test_the_tiny_checkpoint_is_a_remote_code_folder(tiny_models):
    config = json.loads((tiny_models["birefnet"] / "config.json").read_text())
    assert config["auto_map"]["AutoModelForImageSegmentation"].startswith("modeling_")
    assert (tiny_models["birefnet"] / "model.safetensors").is_file()


def test_cuts_the_product_out_through_sigmoid_of_the_last_output(brightness_birefnet):
    photo, truth = disc_photo(200, 300)
    result = BiRefNetSegmenter(str(brightness_birefnet), input_size=128).segment(photo)
    assert result.rgba.shape == (200, 300, 4) and result.rgba.dtype == np.uint8
    found = result.alpha >= 0.5
    assert (found & truth).sum() / (found | truth).sum() >= 0.95
    assert result.confidence > 0.8 and result.warnings == []


def test_the_matte_is_finished_like_the_classic_one(brightness_birefnet):
    photo, _ = disc_photo(160, 160)
    segmenter = BiRefNetSegmenter(str(brightness_birefnet), input_size=64)
    segmenter.load()
    mask = segmenter.predict_masks([photo])[0]
    expected = finish_cutout(photo, resize_alpha(mask, photo.shape[:2]))
    np.testing.assert_array_equal(segmenter.segment(photo).rgba, expected)


def test_edges_are_decontaminated(brightness_birefnet):
    photo, truth = disc_photo(256, 256)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.5)  # a soft edge mixing both colours
    rgba = BiRefNetSegmenter(str(brightness_birefnet), input_size=128).segment(photo).rgba
    alpha = rgba[..., 3]
    edge = (alpha > 40) & (alpha < 215)
    assert edge.sum() > 50
    distance = np.abs(rgba[..., :3][edge].astype(float) - (220, 200, 60)).mean()
    raw = np.abs(photo[edge].astype(float) - (220, 200, 60)).mean()
    assert distance < 0.5 * raw  # edge colour pulled back to the product's own


def test_a_batch_equals_photos_one_by_one(tiny_models):
    photos = [disc_photo(96, 128)[0], disc_photo(120, 80, product=(90, 200, 90))[0],
              disc_photo(64, 64, backdrop=(240, 240, 240))[0]]
    batched = BiRefNetSegmenter(str(tiny_models["birefnet"]), input_size=64, batch_size=2)
    single = BiRefNetSegmenter(str(tiny_models["birefnet"]), input_size=64, batch_size=1)
    together = batched.segment_batch(photos)
    assert [r.rgba.shape[:2] for r in together] == [p.shape[:2] for p in photos]
    for photo, result in zip(photos, together, strict=True):
        alone = single.segment(photo)
        assert np.abs(alone.rgba.astype(int) - result.rgba.astype(int)).max() <= 1


def test_preprocessing_is_imagenet_normalised_at_the_input_size(tiny_models):
    mean_colour = np.array([0.485, 0.456, 0.406]) * 255
    photo = np.broadcast_to(np.round(mean_colour).astype(np.uint8), (50, 70, 3)).copy()
    tensor = BiRefNetSegmenter(str(tiny_models["birefnet"]), input_size=96).preprocess(photo)
    assert tensor.shape == (3, 96, 96) and tensor.dtype == np.float32
    assert np.abs(tensor).max() < 0.01


def test_unload_drops_the_model_and_a_later_photo_loads_it_again(tiny_models):
    segmenter = BiRefNetSegmenter(str(tiny_models["birefnet"]), input_size=64)
    report = segmenter.load()
    assert report.nbytes > 0 and report.device == "cpu" and report.dtype == "float32"
    segmenter.unload()
    assert not segmenter.loaded
    segmenter.segment(disc_photo(64, 64)[0])
    assert segmenter.loaded


def test_missing_weights_offline_name_the_fix(tmp_path):
    segmenter = BiRefNetSegmenter("adforge-test/no-such-birefnet", input_size=64)
    with pytest.raises(ModelUnavailableError, match="models pull"):
        segmenter.load()


def test_confidence_is_high_for_decided_masks_and_low_for_undecided_ones():
    assert mask_confidence(np.array([[0.0, 1.0]])) == 1.0
    assert mask_confidence(np.full((4, 4), 0.5)) == pytest.approx(0.0)


def test_bad_inputs_are_refused_with_the_fix(tiny_models):
    segmenter = BiRefNetSegmenter(str(tiny_models["birefnet"]), input_size=64)
    with pytest.raises(ValueError, match="8-bit RGB"):
        segmenter.segment(np.zeros((64, 64, 4), np.uint8))
    with pytest.raises(ValueError, match="multiple of 32"):
        BiRefNetSegmenter("x", input_size=100)
