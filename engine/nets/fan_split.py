"""The fan's parts that the output settings share, kept for the last few fans.

The speckle shape, the fine filter and the pool detail all split an image inside its fan
into a smooth part (a Gaussian blur of sigma :data:`~.speckle_shape.SPLIT` taken within the
fan, :func:`engine.fan.blur_within`) and the detail. Each needs the fan's inside and that
inside's blur, and the pool detail the depth of every pixel; live synthesis draws one fan
many times, so they are computed once per fan and size here.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def fan_inside(fan, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(inside, its blur for the split) of one fan: float64 (H, W), inside 1 and outside 0."""
    from scipy import ndimage

    from ..fan import fan_mask
    from .speckle_shape import SPLIT

    inside = fan_mask(fan, height, width).astype(np.float64)
    return inside, ndimage.gaussian_filter(inside, SPLIT)


@lru_cache(maxsize=8)
def fan_depth(fan, height: int, width: int) -> np.ndarray:
    """(H, W) each pixel's depth as a fraction of the fan's (:func:`.depth_gain.depth_fraction`)."""
    from .depth_gain import depth_fraction

    return depth_fraction(fan, height, width)
