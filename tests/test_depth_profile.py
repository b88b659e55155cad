"""Grey level by depth (engine.evaluation.depth); evaluate's report line: tests/test_evaluation.py."""

import math

import numpy as np

from engine.evaluation.depth import band_of_rows, grey_by_depth


def test_bands_are_equal_slices_from_the_top():
    assert band_of_rows(6).tolist() == [0, 0, 1, 1, 2, 2]
    assert np.bincount(band_of_rows(256)).tolist() == [86, 85, 85]


def test_grey_by_depth_follows_a_known_falloff_and_counts_the_background_inside_the_fan_only():
    h = w = 30
    rows = np.arange(h)[:, None].repeat(w, axis=1)
    image = (200 - 5 * rows).astype(np.uint8)[None]  # darker with depth, 5 grey levels a row
    labels = np.zeros((1, h, w), np.uint8)
    labels[0, :, 10:20] = 2  # myocardium through the whole depth
    labels[0, 0:10, 20:25] = 3  # an atrium in the near third only
    inside = np.zeros((1, h, w), bool)
    inside[0, :, :10] = True  # the fan: the left columns (and the labels)
    image[0, :, 25:] = 255  # outside the fan: must not count
    depth = grey_by_depth(image, labels, inside)
    # rows 0-9, 10-19, 20-29: means of 200 - 5 r are 177.5, 127.5, 77.5
    assert depth["myo"] == [177.5, 127.5, 77.5]
    assert depth["background"] == [177.5, 127.5, 77.5]
    assert depth["la"][0] == 177.5 and math.isnan(depth["la"][1]) and math.isnan(depth["la"][2])
    assert all(math.isnan(v) for v in depth["lv"])
    brighter_far = image.copy()
    brighter_far[0, 20:, 10:20] += 12
    brighter = grey_by_depth(brighter_far, labels, inside)
    assert [b - a for a, b in zip(depth["myo"], brighter["myo"])] == [0.0, 0.0, 12.0]
    assert brighter["background"] == depth["background"]
