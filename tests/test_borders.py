"""The drawn-border measure: an edge at the mask's border scores high, an edge elsewhere
or no edge scores about 1."""

import numpy as np

from engine.evaluation.borders import BORDERS, border_edge_ratio, border_edges


def two_regions(size: int = 96) -> np.ndarray:
    """Left half LV cavity (1), right half myocardium (2)."""
    labels = np.ones((size, size), np.uint8)
    labels[:, size // 2:] = 2
    return labels


def grain(size: int = 96, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 12, (size, size))


def picture(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0, 255).round().astype(np.uint8)


def test_a_step_on_the_border_scores_far_above_a_step_away_from_it():
    labels = two_regions()
    cols = np.arange(96)[None, :]
    on_border = picture(80 + 40 * (cols >= 48) + grain())
    off_border = picture(80 + 40 * (cols >= 62) + grain())  # the edge 14 px inside the myocardium
    smooth_ramp = picture(80 + 40 * np.clip((cols - 30) / 36, 0, 1) + grain())
    flat = picture(100 + grain())
    on, off, ramp, none = (border_edge_ratio(p, labels, 1, 2) for p in (on_border, off_border, smooth_ramp, flat))
    assert on > 2.0
    assert 0.7 < none < 1.3
    assert off < 1.3  # an edge that the mask does not follow is not a drawn border
    assert ramp < on / 1.5


def test_regions_that_do_not_touch_give_nan_and_are_left_out_of_the_median():
    labels = two_regions()
    image = picture(100 + grain())
    assert np.isnan(border_edge_ratio(image, labels, 1, 3))
    summary = border_edges(np.stack([image, image]), np.stack([labels, labels]))
    assert set(summary) == {name for name, _, _ in BORDERS}
    assert summary["lv/myo"]["images"] == 2
    assert summary["la/bg"]["images"] == 0 and np.isnan(summary["la/bg"]["median"])


def test_the_fan_limits_where_the_border_counts():
    labels = two_regions()
    cols = np.arange(96)[None, :]
    image = picture(80 + 40 * (cols >= 48) + grain())
    inside = np.zeros_like(labels, bool)
    inside[:, :40] = True  # the fan covers only the cavity: no border left inside it
    assert np.isnan(border_edge_ratio(image, labels, 1, 2, inside))
