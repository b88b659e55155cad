"""The augmentation's geometry: whole-pixel shifts copy the image's pixels, resampling turns and
scales, none keeps the pairs where they are; old run folders keep resampling on resume."""

import numpy as np
import pytest

from engine.data.augment import AugmentConfig, augment_pair, draw_params, shift_whole_pixels
from engine.training.config import TrainConfig, resolve_config

SAME_GREY = dict(gain=(1.0, 1.0), gamma=(1.0, 1.0))


def speckle(seed: int = 0, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.integers(1, 256, (size, size)).astype(np.float32) / 255.0
    labels = np.zeros((size, size), np.uint8)
    labels[20:40, 10:30] = 1
    labels[30:50, 35:55] = 3
    return image, labels


def test_whole_pixel_shifts_copy_every_pixel_and_keep_the_mask_aligned():
    image, labels = speckle()
    config = AugmentConfig(geometry="pixel", max_shift=0.1, **SAME_GREY)
    rng = np.random.default_rng(3)
    moved_some = 0
    for _ in range(12):
        params = draw_params(rng, config)
        assert params.angle == 0.0 and params.scale == 1.0
        out, out_labels, out_fan = augment_pair(image, labels, params, np.ones_like(image))
        dx, dy = round(params.shift_x * 64), round(params.shift_y * 64)
        moved_some += (dx, dy) != (0, 0)
        assert np.array_equal(out, shift_whole_pixels(image, dx, dy))
        assert np.array_equal(out_labels, shift_whole_pixels(labels, dx, dy))
        # the picture is copied: every lit pixel is one of the original's values, at the
        # original's place moved by (dx, dy), the mask moved with it
        lit = out > 0
        assert set(np.unique(out[lit])) <= set(np.unique(image))
        rows, cols = np.nonzero(lit)
        assert np.array_equal(out[rows, cols], image[rows - dy, cols - dx])
        assert np.array_equal(out_labels[rows, cols], labels[rows - dy, cols - dx])
        assert out_fan.sum() == lit.sum()  # the fan moves with the picture
    assert moved_some >= 8


def test_resampling_turns_and_softens_and_none_keeps_the_pair():
    image, labels = speckle(1)
    rng = np.random.default_rng(0)
    params = draw_params(rng, AugmentConfig(geometry="resample", **SAME_GREY))
    assert params.angle != 0.0 and params.scale != 1.0
    out = augment_pair(image, labels, params)[0]
    inner = np.s_[16:48, 16:48]
    # interpolation averages neighbours: the fine detail loses energy
    assert np.diff(out[inner], axis=1).std() < 0.9 * np.diff(image[inner], axis=1).std()
    kept = augment_pair(image, labels, draw_params(rng, AugmentConfig(geometry="none", **SAME_GREY)))
    assert np.array_equal(kept[0], image) and np.array_equal(kept[1], labels)


def test_left_right_flip_with_whole_pixel_shifts_mirrors_exactly():
    image, labels = speckle(2)
    assert np.array_equal(shift_whole_pixels(image, 0, 0, flip=True), image[:, ::-1])
    moved = shift_whole_pixels(image, 3, -2, flip=True)
    assert np.array_equal(moved[:-2, 3:], image[2:, ::-1][:, :-3])
    assert not moved[-2:].any() and not moved[:, :3].any()
    assert not shift_whole_pixels(image, 64, 0).any()


def test_unknown_geometry_is_refused():
    with pytest.raises(ValueError, match="geometry"):
        AugmentConfig(geometry="warp")


def test_new_runs_shift_whole_pixels_and_old_run_folders_keep_resampling():
    assert resolve_config("lite").augment_geometry == "pixel"
    old = resolve_config("lite").to_dict()
    del old["augment_geometry"]
    assert TrainConfig.from_dict(old).augment_geometry == "resample"
    assert TrainConfig.from_dict({**old, "augment_geometry": "pixel"}).augment_geometry == "pixel"
