"""Grey level by depth: each region's mean grey level in each depth band, synthetic beside real.

An image's mean grey level per region can match the real one's while its brightness falls
off with depth differently: a dim near field and a bright far field average out. The bands
are horizontal slices of equal height (the probe sits at the top of the image), the rows the
training's ``--region-bands`` loss uses; the background counts inside the fan only.
"""

from __future__ import annotations

import numpy as np

from .realism import REGIONS

BANDS = 3  # thirds of the depth


def band_of_rows(height: int, bands: int = BANDS) -> np.ndarray:
    """(height,) band index of each row: equal slices from the top."""
    return np.arange(height) * bands // height


def grey_by_depth(images: np.ndarray, labels: np.ndarray, insides: np.ndarray,
                  bands: int = BANDS) -> dict[str, list[float]]:
    """Per region, the mean grey level of all its pixels in each depth band over all images
    ((N, H, W) arrays; NaN for a band the region never reaches)."""
    band = band_of_rows(images.shape[1], bands)[None, :, None]
    out = {}
    for name, value in REGIONS:
        where = labels == value
        if value == 0:
            where = where & insides
        row = []
        for b in range(bands):
            picked = images[where & (band == b)]
            row.append(float(picked.mean()) if picked.size else float("nan"))
        out[name] = row
    return out
