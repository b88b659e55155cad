"""Fitting a fan model's pool detail (:mod:`engine.nets.pool_detail`) to the grain of real
images' blood pools, by where each pool lies.

For every pool (the LV cavity, the left atrium) of every image, its mean depth in the fan and
the standard deviation of its detail (the image minus its σ
:data:`~engine.nets.speckle_shape.SPLIT` blur within the fan, over the pool shrunk by
:data:`CLEARANCE` pixels) are taken, in the model's image and in the real one of the same
mask and fan. The pools are binned by their mean depth; a bin's gain is the real pools' median
detail over the model's, clipped to [:data:`~engine.nets.pool_detail.MIN_GAIN`,
:data:`~engine.nets.pool_detail.MAX_GAIN`]. A bin of fewer than :data:`MIN_POOLS` pools gets
the nearest fitted bin's gain. The model's images are made once with its pool detail off and
every other setting as it is.

Fit on the valid split, as the other output settings are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..nets.pool_detail import MAX_GAIN, MIN_GAIN
from ..progress import ProgressCallback, StopCheck, never_stop, no_progress

DEFAULT_BINS = 8
CLEARANCE = 3  # pixels from a pool's border
MIN_PIXELS = 50  # a pool smaller than this once shrunk is not measured
MIN_POOLS = 8  # a bin of fewer pools is not fitted


def pool_details(images: np.ndarray, labels: np.ndarray, fans: list) -> tuple[np.ndarray, np.ndarray]:
    """(mean depths, detail standard deviations) of every pool of every image big enough to
    measure (at least :data:`MIN_PIXELS` pixels once shrunk), in image order."""
    from scipy import ndimage

    from ..fan import blur_within, fan_mask
    from ..nets.pool_detail import pool_depths
    from ..nets.speckle_shape import SPLIT

    depths, details = [], []
    height, width = images.shape[-2:]
    for image, label_map, fan in zip(images, labels, fans):
        inside = fan_mask(fan, height, width)
        picture = image.astype(np.float64)
        detail = None
        for value, depth in pool_depths(label_map, fan).items():
            core = ndimage.binary_erosion(label_map == value, iterations=CLEARANCE) & inside
            if core.sum() < MIN_PIXELS:
                continue
            if detail is None:
                detail = picture - blur_within(picture, inside, SPLIT)
            depths.append(depth)
            details.append(float(detail[core].std()))
    return np.asarray(depths), np.asarray(details)


def fit_pool_gains(real: np.ndarray, synthetic: np.ndarray, labels: np.ndarray, fans: list,
                   bins: int = DEFAULT_BINS) -> dict:
    """{"real", "synthetic": per-bin median detail, "pools": per-bin counts, "gains": tuple}
    for images of the same masks and fans."""
    depths, target = pool_details(real, labels, fans)
    _, drawn = pool_details(synthetic, labels, fans)
    which = np.clip(np.floor(depths * bins).astype(np.int64), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    real_median = np.array([np.median(target[which == b]) if counts[b] else np.nan for b in range(bins)])
    drawn_median = np.array([np.median(drawn[which == b]) if counts[b] else np.nan for b in range(bins)])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = real_median / drawn_median
    fitted = np.isfinite(ratio) & (counts >= MIN_POOLS) & (drawn_median > 0.5)
    if not fitted.any():
        gains = np.ones(bins)
    else:  # a bin of too few pools takes its nearest fitted neighbour's gain
        known = np.flatnonzero(fitted)
        nearest = known[np.abs(np.arange(bins)[:, None] - known[None]).argmin(axis=1)]
        gains = np.clip(ratio[nearest], MIN_GAIN, MAX_GAIN)
    return {"real": real_median.tolist(), "synthetic": drawn_median.tolist(), "pools": counts.tolist(),
            "gains": tuple(round(float(g), 4) for g in gains)}


def fit_model_pool_detail(data: Path | str, model, split: str = "valid", bins: int = DEFAULT_BINS,
                          every: int = 1, progress: ProgressCallback = no_progress,
                          should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_pool_gains` for ``model`` (a loaded fan model) on a prepared dataset's
    ``split``; adds "images", the number of pairs used. ``model`` is left as it was;
    CardiganError for a model without a generator or without a fan."""
    from .fit_images import fan_model_with, real_and_drawn

    model = fan_model_with(model, "a pool detail", pool_detail=())
    images, labels, fans, synthetic = real_and_drawn(data, model, split, every, "fitting the pool detail",
                                                     progress, should_stop)
    return {**fit_pool_gains(images, synthetic, labels, fans, bins), "images": len(images)}
