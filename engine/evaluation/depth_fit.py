"""Fitting a fan model's depth gain (:mod:`engine.nets.depth_gain`) to real images' fall-off
of grey level with depth.

The fan's depth is cut into equal bins from the apex to the arc; in each bin the mean grey
level of every pixel at least :data:`EDGE_CLEARANCE` pixels inside the fan (the rim has its own
fade) is taken over the model's images and over the real ones of the same masks and fans; a
bin's gain is the real mean over the model's, capped at :data:`MAX_FITTED_GAIN` (1: below
the near field the fit only darkens). A gain above 1 would lift the brightest tissue of that
depth into white: for the bundled stage 6, gains of 1.03-1.06 over the bottom third of the
fan took the images with a saturated patch from 20 to 48 of 200 (real 21) for a mean 5 grey
levels nearer. The near field (bins whose centre lies in the top :data:`NEAR_FIELD` of the
depth) may be lifted up to :data:`MAX_NEAR_FIELD_GAIN`: real frames are brightest there
(the probe's ring-down and clutter, a mean of 131 over the top tenth of the valid split
against about 90 below), and a network that draws it dark (87 for the whole-pixel build)
leaves the classifier most of its evidence under the probe. The model's images are made once
with its depth gain off and its tone and grain as they are.

Fit on the valid split, as the tone is (:mod:`engine.evaluation.tone_fit`), for the same
reason: a model trained with per-image grey-level losses matches the train masks' own
brightness more closely than unseen masks'.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fan import edge_distance
from ..nets.depth_gain import depth_fraction
from ..progress import ProgressCallback, StopCheck, never_stop, no_progress

DEFAULT_BINS = 10
EDGE_CLEARANCE = 3  # pixels inside the fan's edge a pixel must be to count
MAX_FITTED_GAIN = 1.0
NEAR_FIELD = 0.2  # the top fifth of the depth
MAX_NEAR_FIELD_GAIN = 2.0


def depth_profile(images: np.ndarray, fans: list, bins: int = DEFAULT_BINS) -> np.ndarray:
    """(bins,) mean grey level of (N, H, W) images per depth bin of their fans, pooled over
    every pixel of every image (NaN for a bin no pixel falls in)."""
    sums, counts = np.zeros(bins), np.zeros(bins)
    height, width = images.shape[-2:]
    for image, fan in zip(images, fans):
        inside = edge_distance(fan, height, width) >= EDGE_CLEARANCE
        which = np.floor(depth_fraction(fan, height, width)[inside] * bins).astype(np.int64)
        keep = (which >= 0) & (which < bins)
        values = image[inside][keep].astype(np.float64)
        sums += np.bincount(which[keep], weights=values, minlength=bins)
        counts += np.bincount(which[keep], minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def fit_gains(real: np.ndarray, synthetic: np.ndarray, fans: list, bins: int = DEFAULT_BINS,
              ceiling: float = MAX_FITTED_GAIN, near_ceiling: float = MAX_NEAR_FIELD_GAIN) -> dict:
    """{"real", "synthetic": per-bin means, "gains": tuple} for images of the same masks and
    fans, no gain above ``ceiling`` (``near_ceiling`` in the near field, where it is higher);
    a bin without pixels, or with a black synthetic mean, gets a gain of 1."""
    from ..nets.depth_gain import MIN_GAIN

    target, drawn = depth_profile(real, fans, bins), depth_profile(synthetic, fans, bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = target / drawn
    ratio = np.where(np.isfinite(ratio) & (drawn > 1), ratio, 1.0)
    centres = (np.arange(bins) + 0.5) / bins
    highest = np.where(centres < NEAR_FIELD, max(ceiling, near_ceiling), ceiling)
    gains = tuple(round(float(g), 4) for g in np.clip(ratio, MIN_GAIN, highest))
    return {"real": target.tolist(), "synthetic": drawn.tolist(), "gains": gains}


def fit_model_depth_gain(data: Path | str, model, split: str = "valid", bins: int = DEFAULT_BINS,
                         every: int = 1, progress: ProgressCallback = no_progress,
                         should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_gains` for ``model`` (a loaded fan model) on a prepared dataset's ``split``;
    adds "images", the number of pairs used. ``model`` is left as it was; CardiganError for a
    model without a generator or without a fan."""
    from .fit_images import fan_model_with, real_and_drawn

    model = fan_model_with(model, "a depth gain", depth_gain=())
    images, _labels, fans, synthetic = real_and_drawn(data, model, split, every, "fitting the depth gain",
                                                      progress, should_stop, any_size=True)
    return {**fit_gains(images, synthetic, fans, bins), "images": len(images)}
