"""What a generated heart's masks keep to in their fan, as :mod:`engine.anatomy.rasterize`
draws them: on past the fan's sides no further than real hearts run (the cavity and the wall
within their bounds outside it), most of the atrium inside, nothing beyond the fan's arc."""

from __future__ import annotations

import numpy as np

from engine.anatomy.rasterize import MAX_CAVITY_OUTSIDE, MAX_WALL_OUTSIDE, MIN_ATRIUM_KEPT
from engine.fan import Fan, fan_mask, pixel_depth
from engine.labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM


def outside_shares(labels: np.ndarray, fan: Fan) -> dict[int, float]:
    """{class: the share of its pixels outside ``fan``}."""
    outside = ~fan_mask(fan, *labels.shape)
    return {label: float(((labels == label) & outside).sum() / max(1, (labels == label).sum()))
            for label in (LV_CAVITY, MYOCARDIUM, LEFT_ATRIUM)}


def assert_in_its_fan(labels: np.ndarray, fan: Fan, where=None) -> None:
    shares = outside_shares(labels, fan)
    assert shares[LV_CAVITY] <= MAX_CAVITY_OUTSIDE and shares[MYOCARDIUM] <= MAX_WALL_OUTSIDE, (where, shares)
    assert shares[LEFT_ATRIUM] <= 1 - MIN_ATRIUM_KEPT, (where, shares)
    assert not labels[pixel_depth(fan, *labels.shape) > fan.depth * labels.shape[0]].any(), where
