"""Fitting a fan model's tip gain (:mod:`engine.nets.tip_gain`) to real images.

For every whole pixel of depth k from the apex (pixels whose depth along the beam lies in
[k - 0.5, k + 0.5)), the mean grey level of the pixels inside the fan is taken over the real
images and over the model's images of the same masks and fans (drawn with the tip gain off),
pooled over all images; point k's gain is the real mean over the model's, clipped to the
setting's range, 1 where no pixel lies (inside the probe's face) and 1 at the last point, so
the gain returns to 1 smoothly. Fit on the valid split, as the other output settings are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import ProgressCallback, StopCheck, never_stop, no_progress

DEFAULT_POINTS = 12


def tip_profile(images: np.ndarray, fans: list, points: int = DEFAULT_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(sums, counts): the grey levels summed, and the pixels counted, inside the fans of
    (N, H, W) images at each whole pixel of depth from 0 to ``points`` - 1."""
    from ..fan import fan_mask, pixel_depth

    sums, counts = np.zeros(points), np.zeros(points)
    height, width = images.shape[-2:]
    for image, fan in zip(images, fans):
        which = np.rint(pixel_depth(fan, height, width)).astype(np.int64)
        keep = fan_mask(fan, height, width) & (which < points)
        sums += np.bincount(which[keep], weights=image[keep].astype(np.float64), minlength=points)[:points]
        counts += np.bincount(which[keep], minlength=points)[:points]
    return sums, counts


def fit_tip_gain(real: np.ndarray, synthetic: np.ndarray, fans: list, points: int = DEFAULT_POINTS) -> dict:
    """{"gains": the setting, "real" and "synthetic": mean grey level per point (NaN where no
    pixel lies)} for ``real`` and ``synthetic`` images of the same masks and ``fans``."""
    from ..nets.tip_gain import MAX_GAIN, MAX_POINTS, MIN_GAIN

    if not 2 <= points <= MAX_POINTS:
        raise ValueError(f"points must be between 2 and {MAX_POINTS}")
    real_sums, counts = tip_profile(real, fans, points)
    synthetic_sums, _ = tip_profile(synthetic, fans, points)
    with np.errstate(invalid="ignore", divide="ignore"):
        real_mean, synthetic_mean = real_sums / counts, synthetic_sums / counts
        ratio = real_mean / np.maximum(synthetic_mean, 1.0)
    gains = np.where(counts > 0, np.clip(ratio, MIN_GAIN, MAX_GAIN), 1.0)
    gains[-1] = 1.0
    return {"gains": tuple(round(float(g), 4) for g in gains),
            "real": [float(v) for v in real_mean], "synthetic": [float(v) for v in synthetic_mean]}


def fit_model_tip_gain(data: Path | str, model, split: str = "valid", points: int = DEFAULT_POINTS,
                       every: int = 1, progress: ProgressCallback = no_progress,
                       should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_tip_gain` for ``model`` (a loaded fan model) on a prepared dataset's
    ``split``; adds "images". ``model`` is left as it was; CardiganError for a model without a
    generator or without a fan."""
    from .fit_images import fan_model_with, real_and_drawn

    model = fan_model_with(model, "the tip gain", tip_gain=())
    images, _labels, fans, synthetic = real_and_drawn(data, model, split, every, "fitting the tip gain",
                                                      progress, should_stop)
    return {**fit_tip_gain(images, synthetic, fans, points), "images": len(images)}
