"""The mask tools' edge cases: empty classes, the image's edge, "All classes", ties, large
radii, and the painting rule (:func:`engine.mask_tools.confine`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from engine.mask_tools import _disc, confine, keep_largest, margin, remove_islands, smooth
from tests.test_mask_sources import heart


@pytest.mark.parametrize("tool", [
    lambda m: margin(m, 3, 4), lambda m: margin(m, 3, -4), lambda m: smooth(m, 3, 3, "median"),
    lambda m: smooth(m, 3, 3, "open"), lambda m: smooth(m, 3, 3, "close"),
    lambda m: remove_islands(m, 50, (3,)), lambda m: keep_largest(m, (3,))],
    ids=["grow", "shrink", "median", "open", "close", "islands", "largest"])
def test_a_tool_on_a_class_the_mask_lacks_changes_nothing(tool):
    labels = heart()
    labels[labels == 3] = 0
    assert np.array_equal(tool(labels), labels)


def test_a_class_cut_by_the_image_edge_does_not_pull_away_from_it():
    """Outside the image counted as background: shrinking ate the atrium's edge row, opening
    removed a strip along the edge, closing left a crack open near it."""
    labels = np.zeros((40, 40), np.uint8)
    labels[30:, 10:30] = 3
    assert (margin(labels, 3, -2)[-1, 12:28] == 3).all()
    strip = np.zeros((40, 40), np.uint8)
    strip[37:, 5:35] = 3
    assert (smooth(strip, 2, 3, "open")[37:, 10:30] == 3).all()
    cracked = np.zeros((40, 40), np.uint8)
    cracked[30:, 5:35] = 2
    cracked[30:, 20] = 0
    assert (smooth(cracked, 2, 2, "close")[30:, 20] == 2).all()


def test_closing_all_classes_fills_background_gaps_and_moves_no_class():
    """Closing every class in turn closed the background too: a thin wall spur and a thin
    strip of atrium were erased, and a later class could win a gap over an earlier one."""
    labels = heart()
    labels[40:44, 20:40] = 2  # a thin spur of wall out into the background
    labels[70:75, 100:118] = 3  # a thin strip of atrium
    labels[12:17, 64] = 0  # a crack through the wall's top
    closed = smooth(labels, 2, None, "close")
    changed = closed != labels
    assert (labels[changed] == 0).all()  # only background changes
    assert (closed[12:17, 64] == 2).all()  # the crack closes with the wall around it


def test_the_median_of_all_classes_keeps_a_pixel_its_class_ties_for():
    """A tie went to the lowest class id, background: holes opened inside the heart."""
    labels = np.full((7, 7), 2, np.uint8)
    labels[2:5, 2:5] = [[0, 0, 1], [0, 1, 1], [0, 1, 2]]  # the 3x3 disc: 4 background, 4 cavity, 1 wall
    labels[:, :2] = 0
    assert smooth(labels, 1, None, "median")[3, 3] == 1


def test_the_median_of_one_class_moves_only_that_class():
    labels = heart()
    labels[30:33, 64] = 2
    labels[88:92, 40:44] = 1  # a lump of cavity in the wall and atrium
    smoothed = smooth(labels, 3, 1, "median")
    changed = smoothed != labels
    assert changed.any() and ((labels[changed] == 1) | (smoothed[changed] == 1)).all()


@pytest.mark.parametrize("pixels", [-40, 24])
def test_a_large_margin_is_the_disc_dilation_or_erosion(pixels):
    labels = heart()
    region = labels == 2
    out = margin(labels, 2, pixels)
    if pixels > 0:
        assert np.array_equal(out == 2, ndimage.binary_dilation(region, _disc(pixels)))
    else:
        assert not (out == 2).any() and (out[region] != 0).any()  # gone, refilled from around


def test_confine_keeps_only_the_changes_the_rule_allows():
    labels = heart()
    grown = margin(labels, 2, 3)
    over_background = confine(labels, grown, over=0)
    assert (over_background[labels != 0] == labels[labels != 0]).all()
    assert (over_background == 2).sum() > (labels == 2).sum()  # it grew into the background
    outside = np.zeros(labels.shape, bool)
    outside[:, :64] = True
    halved = confine(labels, grown, outside=outside)
    blank = outside & (labels == 0)
    assert not halved[blank].any() and grown[blank].any()  # no wall painted on the black
    assert np.array_equal(halved[~blank], grown[~blank])  # the heart's own pixels still change
    shrunk = margin(labels, 2, -2)
    assert np.array_equal(confine(labels, shrunk, over=0), labels)  # the wall's pixels are kept
    assert np.array_equal(confine(labels, shrunk, over=2), shrunk)
