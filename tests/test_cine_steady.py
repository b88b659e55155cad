"""A loop's brightness does not jump between frames (engine/cine/steady.py), and the measures
that find it jumping (engine/cine/measures: far_field_flicker, brightness_jumps)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.cine import Timing, loop_from_key_frames, synthesize_loop
from engine.cine.measures import brightness_jumps, detail_correlation, far_field_flicker
from engine.cine.steady import (MAX_GAIN, far_weight, phase_line, smooth_brightness, steady_chambers,
                                steady_far_field, steady_loop)
from engine.fan import default_fan, fan_mask
from engine.labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from test_cine import key_frames, small_model_loop

SIZE = 128


def flickering_loop(frames: int = 6, jump: float = 30.0):
    """A loop of speckle carried by nothing (one pattern, still), with a broad patch of the far
    field brightened by ``jump`` grey levels on every second frame, as the generator does."""
    ed, es = key_frames(11, SIZE)
    loop = loop_from_key_frames(ed, es, Timing(frames=frames))
    rng = np.random.default_rng(0)
    speckle = 100.0 + 12.0 * rng.standard_normal((SIZE, SIZE))
    patch = np.zeros((SIZE, SIZE))
    patch[int(0.75 * SIZE):, : SIZE // 3] = 1.0
    patch = ndimage.gaussian_filter(patch, 6.0)
    images = np.stack([speckle + jump * patch * (k % 2) for k in range(frames)])
    images[:, :, :2] = 0  # a strip outside the picture's support stays black
    return loop, np.clip(np.rint(images), 0, 255).astype(np.uint8)


def test_far_field_flicker_reads_a_broad_change_and_nothing_in_a_still_loop():
    loop, images = flickering_loop()
    still = np.stack([images[0]] * len(images))
    assert far_field_flicker(still, loop.masks) == {"median": 0.0, "worst": 0.0}
    measured = far_field_flicker(images, loop.masks)
    assert 2.0 < measured["worst"] < 30.0
    assert measured["median"] > 0.9 * measured["worst"]  # every pair jumps
    heart_only = np.where(loop.masks == BACKGROUND, images[0], images)  # a change on the heart is not counted
    assert far_field_flicker(heart_only, loop.masks)["worst"] < 0.01 * measured["worst"]


def test_the_far_field_keeps_the_first_frames_brightness_and_its_own_speckle():
    loop, images = flickering_loop()
    steady = steady_far_field(images, loop.masks, loop.field, loop.phases)
    assert steady.shape == images.shape and steady.dtype == np.uint8
    assert np.array_equal(steady[0], images[0])  # the loop still starts on the still image
    before, after = far_field_flicker(images, loop.masks), far_field_flicker(steady, loop.masks)
    assert after["worst"] < 0.2 * before["worst"]
    for k in range(1, len(images)):  # the heart and the band around it are left as drawn
        near = far_weight(loop.masks[k], SIZE / 256) == 0
        assert np.array_equal(steady[k][near], images[k][near])
    assert np.all(steady[:, :, :2] == 0)  # outside the support stays black
    # the speckle is each frame's own: its detail matches the frame's, not the first frame's
    def detail(image: np.ndarray) -> np.ndarray:
        return image.astype(float) - ndimage.gaussian_filter(image.astype(float), 4.0)

    for k in (1, 3):
        far = far_weight(loop.masks[k], SIZE / 256) == 1
        assert np.corrcoef(detail(steady[k])[far], detail(images[k])[far])[0, 1] > 0.95


def test_a_chamber_that_flashes_for_a_frame_is_smoothed_and_a_steady_change_is_kept():
    loop, images = flickering_loop(frames=8, jump=0.0)
    flashed = images.astype(float)
    flashed[3][loop.masks[3] == LV_CAVITY] += 24.0  # the cavity flashes brighter in one frame
    flashed = np.clip(flashed, 0, 255).astype(np.uint8)
    before = brightness_jumps(flashed, loop.masks)["lv_cavity"]
    assert before["worst"] > 15.0
    smoothed = smooth_brightness(flashed, loop.field, loop.phases)
    assert np.array_equal(smoothed[0], flashed[0])
    assert brightness_jumps(smoothed, loop.masks)["lv_cavity"]["worst"] < 0.6 * before["worst"]
    # a brightening at constant speed (every pixel, frame by frame) passes through unchanged inside
    ramp = np.clip(images.astype(float) + 3.0 * np.arange(8)[:, None, None], 0, 255)
    ramp[:, :, :2] = 0
    ramp = ramp.astype(np.uint8)
    kept = smooth_brightness(ramp, np.zeros_like(loop.field), loop.phases, closed=False)
    inside = np.zeros(ramp.shape[1:], bool)
    inside[16:-16, 16:-16] = True
    assert np.abs(kept[1:-1, inside].astype(int) - ramp[1:-1, inside]).max() <= 1
    assert not np.array_equal(kept[-1], ramp[-1])  # a half cycle's last frame has only one neighbour


def test_a_loop_from_a_model_is_steadied_unless_asked_not_to():
    synth, loop = small_model_loop(6)
    steady = synthesize_loop(synth, loop, seed=3)
    drawn = synthesize_loop(synth, loop, seed=3, steady=False)
    assert np.array_equal(steady[0], drawn[0])
    cut = fan_mask(default_fan(), 64, 64)  # the fan the frames were cut to
    assert np.array_equal(steady, steady_loop(drawn, loop.masks, loop.field, loop.phases, True, cut))
    assert far_field_flicker(steady, loop.masks)["worst"] <= far_field_flicker(drawn, loop.masks)["worst"]
    assert np.all(steady[:, ~cut] == drawn[:, ~cut])  # black outside the fan stays so
    # the speckle still changes as before: its frame-to-frame correlation is kept
    assert abs(detail_correlation(steady, loop.masks)["background"]
               - detail_correlation(drawn, loop.masks)["background"]) < 0.05


def test_a_loop_passes_through_both_key_frames_still_images():
    from engine.synthesizer import to_uint8

    synth, loop = small_model_loop(6)
    (on_es,) = loop.es_frames()  # six frames of a whole cycle: the third falls on ES
    assert on_es == 2
    drawn = synthesize_loop(synth, loop, seed=5, steady=False)
    ed_still, es_still = (to_uint8(synth.synthesize(mask, seed=5)) for mask in (loop.masks[0], loop.masks[on_es]))
    assert np.array_equal(drawn[0], ed_still) and np.array_equal(drawn[on_es], es_still)
    half = type(loop)(loop.masks[:3], loop.phases[:3], loop.field, Timing(frames=3, cycle="half"))
    assert half.es_frames() == [2] and np.array_equal(synthesize_loop(synth, half, seed=5, steady=False)[-1], es_still)
    # steadied, the ES frame's brightness follows its neighbours' and its speckle stays the still's
    steady = synthesize_loop(synth, loop, seed=5)
    assert np.array_equal(steady[0], ed_still)

    def detail(image: np.ndarray) -> np.ndarray:
        return (image.astype(float) - ndimage.gaussian_filter(image.astype(float), 2.0))[es_still > 0]

    assert np.corrcoef(detail(steady[on_es]), detail(es_still))[0, 1] > 0.9


def test_one_image_takes_another_images_far_field_and_keeps_its_own_speckle():
    from engine.cine.steady import hold_far_field

    loop, images = flickering_loop(frames=2, jump=30.0)  # frame 1: a far patch 30 levels brighter
    mask = loop.masks[1]
    held = hold_far_field(images[1], mask, images[0])
    far = far_weight(mask, SIZE / 256) == 1
    assert np.abs(held[far].astype(float) - images[0][far]).mean() < 0.3 * np.abs(
        images[1][far].astype(float) - images[0][far]).mean()
    near = far_weight(mask, SIZE / 256) == 0
    assert np.array_equal(held[near], images[1][near])  # the heart and the band around it as drawn
    assert np.array_equal(hold_far_field(images[0], mask, images[0]), images[0])  # its own far field: unchanged


def test_the_whole_loop_is_its_three_steps_in_turn():
    loop, images = flickering_loop(frames=5)
    images[2, 40:44, 60:64] = 0  # a few pixels unlit in one frame only: the support is every frame's
    images = chambers_lit(loop, images, bump=12.0)
    every = steady_loop(images, loop.masks, loop.field, loop.phases)
    held = steady_far_field(images, loop.masks, loop.field, loop.phases)
    support = (images > 0).any(axis=0)
    smooth = smooth_brightness(held, loop.field, loop.phases, support=support)
    in_turn = steady_chambers(smooth, loop.masks, loop.phases, support=support)
    assert np.array_equal(every, in_turn)
    assert not np.array_equal(smooth, held)  # the second step did something
    assert not np.array_equal(in_turn, smooth)  # and the third


def chambers_lit(loop, images: np.ndarray, bump: float, trend: float = 0.0) -> np.ndarray:
    """``images`` with each region at its own grey level, the atrium ``bump`` levels brighter
    in the frames of phase 0.3–0.9 (halfway, on the way to ES and back) than in the rest, every
    chamber ``trend`` levels brighter at ES than at ED in proportion to the phase."""
    out = images.astype(np.float64)
    middle = ((loop.phases > 0.3) & (loop.phases < 0.9)).astype(np.float64)
    for label, grey in ((LV_CAVITY, 60.0), (MYOCARDIUM, 110.0), (LEFT_ATRIUM, 70.0)):
        for t in range(len(images)):
            region = loop.masks[t] == label
            level = grey + trend * loop.phases[t] + (bump * middle[t] if label == LEFT_ATRIUM else 0.0)
            out[t][region] = level + (out[t][region] - 100.0) * 0.5
    out[images == 0] = 0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def test_a_chamber_that_brightens_for_a_few_frames_is_held_on_its_line_and_a_steady_trend_is_kept():
    loop, images = flickering_loop(frames=12, jump=0.0)
    bumped = chambers_lit(loop, images, bump=15.0)
    steady = steady_chambers(bumped, loop.masks, loop.phases)
    assert np.array_equal(steady[0], bumped[0])  # the loop still starts on the still image
    before, after = brightness_jumps(bumped, loop.masks), brightness_jumps(steady, loop.masks)
    assert before["left_atrium"]["worst"] > 10.0
    assert after["left_atrium"]["worst"] < 0.5 * before["left_atrium"]["worst"]
    assert np.all(steady[:, :, :2] == 0)  # outside the support stays black
    far = np.stack([far_weight(m, SIZE / 256) == 1 for m in loop.masks])
    assert np.abs(steady[far].astype(int) - bumped[far]).max() <= 1  # the far field is not touched
    # the speckle stays: within the atrium the frame's pattern is scaled, not replaced
    t = 2
    core = ndimage.binary_erosion(loop.masks[t] == LEFT_ATRIUM, iterations=4)
    assert np.corrcoef(steady[t][core].astype(float), bumped[t][core].astype(float))[0, 1] > 0.95

    trending = chambers_lit(loop, images, bump=0.0, trend=12.0)  # brighter towards ES, smoothly
    kept = steady_chambers(trending, loop.masks, loop.phases)
    assert np.abs(kept.astype(int) - trending.astype(int)).max() <= 2


def test_the_phase_line_runs_through_the_first_frame_and_fits_the_rest():
    phases = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 0.5])
    means = 50.0 + 8.0 * phases
    assert np.allclose(phase_line(means, phases), means)  # a straight line is its own
    noisy = means.copy()
    noisy[2] += 6.0
    line = phase_line(noisy, phases)
    assert line[0] == noisy[0] and abs(line[2] - noisy[2]) > 3.0
    missing = means.copy()
    missing[0] = np.nan
    assert phase_line(missing, phases) is None  # no first frame to hold
    assert phase_line(np.array([50.0, np.nan, np.nan]), np.array([0.0, 0.5, 1.0])) is None


def test_a_chambers_gain_is_bounded():
    loop, images = flickering_loop(frames=6, jump=0.0)
    bumped = chambers_lit(loop, images, bump=120.0)  # far more than a flash: the atrium near white
    steady = steady_chambers(bumped, loop.masks, loop.phases)
    t = 1  # phase 0.5
    core = ndimage.binary_erosion(loop.masks[t] == LEFT_ATRIUM, iterations=4)
    ratio = steady[t][core].astype(float).mean() / bumped[t][core].astype(float).mean()
    assert 1.0 / MAX_GAIN - 0.02 <= ratio < 0.95


def test_a_mask_without_a_heart_is_far_field_everywhere_and_a_full_picture_keeps_its_border():
    empty = np.zeros((32, 32), np.uint8)
    assert np.all(far_weight(empty) == 1.0)  # no heart: nothing is near it
    rng = np.random.default_rng(4)
    images = np.clip(100 + 20 * rng.standard_normal((3, 32, 32)), 1, 255).astype(np.uint8)  # lit to the border
    images[1] = np.clip(images[1].astype(int) + 40, 1, 255)
    masks = np.zeros_like(images)
    still = np.zeros((32, 32, 2), np.float32)
    steady = steady_far_field(images, masks, still, np.array([0.0, 0.5, 1.0]))
    border = np.zeros((32, 32), bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    for k in (1, 2):  # the picture's outermost pixels are left as drawn, on every side
        assert np.array_equal(steady[k][border], images[k][border])
    assert not np.array_equal(steady[1][~border], images[1][~border])  # inside, it was held


def test_where_only_the_reference_has_a_heart_its_brightness_is_not_taken():
    from engine.cine.steady import hold_far_field

    loop, images = flickering_loop(frames=2, jump=0.0)
    mask = loop.masks[1].copy()
    reference_mask = mask.copy()
    reference_mask[8:28, 40:80] = LV_CAVITY  # a chamber the reference has and this frame lacks
    reference = images[0].copy()
    reference[8:28, 40:80] = 10  # drawn dark, as blood is
    ghost = hold_far_field(images[1], mask, reference)
    kept = hold_far_field(images[1], mask, reference, reference_mask=reference_mask)
    centre = (slice(14, 22), slice(52, 68))
    assert ghost[centre].mean() < images[1][centre].mean() - 30  # without it: the chamber shows
    assert np.array_equal(kept[centre], images[1][centre])  # with it: drawn as this frame has it
    far = far_weight(np.where(mask != 0, mask, reference_mask), SIZE / 256) == 1
    assert np.array_equal(kept[far], ghost[far])  # elsewhere the same


def test_a_patch_that_changes_for_good_between_two_frames_changes_over_several():
    # the generator samples the label map at its coarse levels every 16-32 pixels: an outline
    # that crosses one sample between two frames brightens a patch tens of pixels wide for good
    loop, images = flickering_loop(frames=12, jump=0.0)
    step = np.zeros(images.shape)
    step[6:, int(0.75 * SIZE):, : SIZE // 3] = 30.0
    stepped = np.clip(images + step, 0, 255).astype(np.uint8)
    smoothed = smooth_brightness(stepped, np.zeros_like(loop.field), loop.phases, closed=False)
    patch = (slice(int(0.8 * SIZE), SIZE - 4), slice(8, SIZE // 3 - 4))

    def pair_changes(frames: np.ndarray) -> np.ndarray:
        means = frames[:, patch[0], patch[1]].astype(float).mean(axis=(1, 2))
        return np.abs(np.diff(means[2:11]))  # the pairs around the step, away from the wrap

    assert pair_changes(stepped).max() > 28.0
    assert pair_changes(smoothed).max() < 0.3 * 30.0  # a [1, 2, 1] average halves it: 15
    assert abs(pair_changes(smoothed).sum() - 30.0) < 2.0  # the whole change is kept, only spread
