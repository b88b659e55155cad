"""Blood pools get fresh noise every frame of a loop; tissue keeps the noise carried with it."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cine import Timing, loop_from_key_frames, synthesize_loop
from engine.cine.blood import PoolNoise, pool_noise, pool_weight
from engine.cine.measures import detail_correlation
from engine.cine.motion import warp_noise
from engine.labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from test_cine import key_frames, small_model_loop


SIZE = 128


def loop_noise(seed: int = 0, channels: int = 4, frames: int = 6):
    ed, es = key_frames(7, SIZE)
    loop = loop_from_key_frames(ed, es, Timing(frames=frames))
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((channels, SIZE, SIZE)).astype(np.float32)
    base[: channels // 2] = rng.standard_normal((channels // 2, 1, 1))  # style channels: constant maps
    carried = np.stack([warp_noise(base, loop.field, float(p)) for p in loop.phases])
    return loop, base, carried


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_the_pools_decorrelate_between_frames_and_the_wall_keeps_its_carried_noise():
    loop, base, carried = loop_noise()
    mixed = pool_noise(carried, base, loop.masks, seed=3)
    assert mixed.shape == carried.shape and mixed.dtype == np.float32
    assert np.array_equal(mixed[0], carried[0])  # ED: the still image's own map
    assert np.array_equal(mixed[:, :2], carried[:, :2])  # the style channels untouched
    for t in range(2, loop.frames):
        deep = pool_weight(loop.masks[t], (SIZE, SIZE)) > 0.999
        wall = (loop.masks[t] == MYOCARDIUM) & (pool_weight(loop.masks[t], (SIZE, SIZE)) == 0)
        assert deep.sum() > 100 and wall.sum() > 100
        assert np.array_equal(mixed[t][2:][:, wall], carried[t][2:][:, wall])
        # two frames' pools share only the clutter fixed on the picture: about 0.5² = 0.25
        both = deep & (pool_weight(loop.masks[t - 1], (SIZE, SIZE)) > 0.999)
        r = correlation(mixed[t][2:][:, both], mixed[t - 1][2:][:, both])
        assert 0.05 < r < 0.45, r
        assert correlation(mixed[t][2:][:, deep], base[2:][:, deep]) == pytest.approx(0.5, abs=0.15)
        assert np.std(mixed[t, 2:]) == pytest.approx(1.0, abs=0.08)  # still unit noise
    assert np.array_equal(mixed, pool_noise(carried, base, loop.masks, seed=3))  # one seed, one loop
    assert not np.array_equal(mixed, pool_noise(carried, base, loop.masks, seed=4))


def test_clutter_one_fixes_the_pools_on_the_picture_and_bad_values_are_refused():
    loop, base, carried = loop_noise()
    fixed = pool_noise(carried, base, loop.masks, seed=0, clutter=1.0)
    deep = pool_weight(loop.masks[3], (SIZE, SIZE)) > 1 - 1e-6
    assert deep.sum() > 100 and np.allclose(fixed[3][2:][:, deep], base[2:][:, deep], atol=1e-4)
    with pytest.raises(ValueError, match="clutter"):
        pool_noise(carried, base, loop.masks, seed=0, clutter=1.5)


def test_pool_weight_follows_the_mask_at_another_size():
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:16], mask[8:24, 16:24] = LV_CAVITY, LEFT_ATRIUM
    weight = pool_weight(mask, (64, 64))
    assert weight.shape == (64, 64) and weight[32, 32] > 0.99 and weight[5, 5] == 0.0
    assert 0.0 < weight[16, 32] < 1.0  # a soft edge, inside the shrunk pool's border


def test_detail_correlation_reads_carried_and_fresh_texture():
    rng = np.random.default_rng(2)
    masks = np.zeros((5, 64, 64), np.uint8)
    masks[:, 8:56, 8:30], masks[:, 8:56, 34:56] = MYOCARDIUM, LV_CAVITY
    texture = rng.integers(60, 200, (64, 64)).astype(np.float32)
    images = np.stack([texture] * 5)
    images[:, 8:56, 34:56] = rng.integers(60, 200, (5, 48, 22))  # the pool: new every frame
    result = detail_correlation(images.astype(np.uint8), masks)
    assert result["myocardium"] > 0.99 and abs(result["lv_cavity"]) < 0.2
    assert np.isnan(result["left_atrium"])  # not in these masks


def test_a_noise_model_loop_renews_its_pools_unless_asked_not_to():
    synth, loop = small_model_loop(6)
    fresh = synthesize_loop(synth, loop, seed=3)
    carried = synthesize_loop(synth, loop, seed=3, fresh_blood=False)
    assert np.array_equal(fresh[0], carried[0])  # ED is the still image either way
    pools = np.isin(loop.masks[1:], (LV_CAVITY, LEFT_ATRIUM))
    assert not np.array_equal(fresh[1:][pools], carried[1:][pools])


def test_frame_by_frame_pools_are_the_whole_loops_and_come_in_order():
    loop, base, carried = loop_noise(frames=7)
    whole = pool_noise(carried, base, loop.masks, seed=9, keep=[3])
    pools = PoolNoise(base, seed=9, keep=[3])
    for t in range(loop.frames):  # what a loop drawn one batch at a time gets
        assert np.array_equal(pools(t, carried[t], loop.masks[t]), whole[t])
    assert np.array_equal(whole[3], carried[3])  # a kept frame as given
    again = PoolNoise(base, seed=9)
    again(2, carried[2], loop.masks[2])
    with pytest.raises(ValueError, match="in order"):
        again(1, carried[1], loop.masks[1])
