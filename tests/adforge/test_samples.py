"""The sample product photos: deterministic, well-formed, with their true masks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from adforge.samples import BACKDROPS, SAMPLE_KINDS, render_sample, write_samples


@pytest.mark.parametrize("backdrop", BACKDROPS)
@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_every_kind_renders_a_centred_product_on_both_backdrops(kind: str, backdrop: str):
    photo, mask = render_sample(kind, size=256, seed=1, backdrop=backdrop)
    assert photo.shape == (256, 256, 3) and photo.dtype == np.uint8
    assert mask.shape == (256, 256) and mask.dtype == bool
    assert 0.03 < mask.mean() < 0.5
    ys, xs = np.nonzero(mask)
    assert ys.min() > 10 and xs.min() > 10 and ys.max() < 245 and xs.max() < 245
    inside = photo[mask].astype(float).mean(axis=0)
    outside = photo[~mask].astype(float).mean(axis=0)
    assert np.abs(inside - outside).max() > 5  # the product is visible


def test_same_seed_same_photo_and_other_seed_other_photo():
    first, first_mask = render_sample("mug", size=192, seed=7, backdrop="graded")
    again, again_mask = render_sample("mug", size=192, seed=7, backdrop="graded")
    other, _ = render_sample("mug", size=192, seed=8, backdrop="graded")
    assert np.array_equal(first, again) and np.array_equal(first_mask, again_mask)
    assert not np.array_equal(first, other)


def test_size_is_honoured_and_edges_are_anti_aliased():
    photo, mask = render_sample("can", size=333, seed=0)
    assert photo.shape == (333, 333, 3) and mask.shape == (333, 333)
    # Along the silhouette, pixels take in-between values (no jagged hard step).
    row = int(np.nonzero(mask.any(axis=1))[0].mean())
    left = int(np.flatnonzero(mask[row])[0])
    values = photo[row, left - 3:left + 3].astype(float).mean(axis=1)
    steps = np.abs(np.diff(values))
    assert steps.max() < np.abs(values[-1] - values[0])


def test_shadow_darkens_the_backdrop_but_is_not_in_the_mask():
    photo, mask = render_sample("box", size=384, seed=2, backdrop="plain")
    ys, xs = np.nonzero(mask)
    below = photo[ys.max() + 3: ys.max() + 8, xs.min(): xs.max()].astype(float).mean()
    corner = photo[:40, :40].astype(float).mean()
    assert below < 0.92 * corner
    assert not mask[ys.max() + 3:, :].any()


def test_graded_backdrop_varies_and_plain_does_not():
    plain, _ = render_sample("jar", size=256, seed=3, backdrop="plain")
    graded, _ = render_sample("jar", size=256, seed=3, backdrop="graded")
    def spread(photo: np.ndarray) -> float:
        top, bottom = photo[:12, :].astype(float).mean(), photo[-12:, 100:150].astype(float)
        return abs(top - bottom.mean())
    assert spread(graded) > spread(plain)


def test_write_samples_writes_photos_and_masks(tmp_path):
    paths = write_samples(tmp_path, size=128, seed=4)
    assert [p.stem for p in paths] == list(SAMPLE_KINDS)
    for index, path in enumerate(paths):
        photo = np.asarray(Image.open(path))
        mask = np.asarray(Image.open(tmp_path / f"{path.stem}.mask.png")) > 127
        expected, expected_mask = render_sample(
            path.stem, size=128, seed=4, backdrop=BACKDROPS[index % 2])
        assert np.array_equal(photo, expected) and np.array_equal(mask, expected_mask)


def test_bad_arguments_say_what_to_use():
    with pytest.raises(ValueError, match="use one of"):
        render_sample("teapot")
    with pytest.raises(ValueError, match="plain"):
        render_sample("mug", backdrop="marble")
    with pytest.raises(ValueError, match="64..4096"):
        render_sample("mug", size=10)


def test_renders_at_full_size():
    photo, mask = render_sample("shoe", size=1024, seed=0)
    assert photo.shape == (1024, 1024, 3) and mask.any()
