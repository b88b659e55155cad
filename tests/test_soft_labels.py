"""Soft labels: a cine loop's coarse levels read each class's share of a cell, so an outline
that moves a pixel does not change a whole cell's input at once."""

import numpy as np
import pytest
import torch

from engine.cine import Timing, synthesize_loop
from engine.cine.loop import CineLoop, loop_soft_labels
from engine.labels import one_hot
from engine.nets.norms import resize_labels, soft_resize
from engine.soft_labels import SoftLabels
from test_fan import fan_synthesizer


def outline(x: int, size: int = 64) -> np.ndarray:
    """An LV cavity left of column ``x``, background right of it."""
    mask = np.zeros((size, size), np.uint8)
    mask[:, :x] = 1
    return mask


@pytest.fixture(scope="module")
def synth():
    return fan_synthesizer(noise_nc=4, fan=False)


def test_an_outline_moving_one_pixel_changes_each_coarse_cell_a_little():
    before, after = one_hot(outline(32)), one_hot(outline(33))  # column 32 is sampled at every level
    for side in (2, 4, 8):
        sampled = resize_labels(after, (side, side)) - resize_labels(before, (side, side))
        soft = soft_resize(after, after, (side, side)) - soft_resize(before, before, (side, side))
        assert sampled.abs().max() == 1.0  # a whole cell at once
        assert soft.abs().max() == pytest.approx(1.0 / (64 // side))  # one column of the cell's


def test_a_loop_frame_whose_outline_crosses_a_coarse_sample_changes_little_far_from_it(synth):
    edges, phases = (20, 32, 33, 44), np.array([0.0, 0.48, 0.52, 1.0])
    loop = CineLoop(np.stack([outline(x) for x in edges]), phases, np.zeros((64, 64, 2), np.float32),
                    Timing(frames=4, cycle="half"))
    change = {}
    for soft in (False, True):
        images = synthesize_loop(synth, loop, seed=1, steady=False, fresh_blood=False, soft_labels=soft)
        change[soft] = np.abs(images[2].astype(float) - images[1])[:, 44:].mean()  # 11 px and more away
    assert change[True] < 0.25 * change[False]


def test_a_loops_key_frames_are_weighted_to_be_drawn_as_stills():
    phases = np.array([0.0, 0.5, 1.0, 0.5])
    loop = CineLoop(np.stack([outline(x) for x in (20, 30, 40, 30)]), phases, np.zeros((64, 64, 2), np.float32),
                    Timing(frames=4))
    soft = loop_soft_labels(loop)
    assert np.array_equal(soft.keys, loop.masks[[0, 2]])
    assert soft.weights.tolist() == [[1, 0], [0.5, 0.5], [0, 1], [0.5, 0.5]]


def test_soft_labels_of_the_wrong_shape_are_refused_in_one_line(synth):
    masks = np.stack([outline(30), outline(31)])
    with pytest.raises(ValueError, match=r"weights have shape \(1, 2\), not \(2, 2\)"):
        synth.synthesize(masks, soft_labels=SoftLabels(masks, np.zeros((1, 2))))
    with pytest.raises(ValueError, match="key maps have shape"):
        synth.synthesize(masks, soft_labels=SoftLabels(masks[:, :32], np.zeros((2, 2))))


def test_a_map_drawn_with_all_its_weight_on_itself_is_its_still(synth):
    masks = np.stack([outline(30), outline(33)])
    drawn = synth.synthesize(masks, seed=2, soft_labels=SoftLabels(masks, np.eye(2)))
    assert torch.equal(torch.from_numpy(drawn), torch.from_numpy(synth.synthesize(masks, seed=2)))
