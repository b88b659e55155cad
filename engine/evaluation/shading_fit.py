"""Fitting a fan model's shading (:mod:`engine.nets.shading`) to real images.

Each image is summarised on the shading's grid (:func:`~engine.nets.shading.grid_cells`): the
log of its mean grey level plus :data:`LOG_OFFSET` in every cell, a cell counting only when at
least :data:`MIN_PIXELS` of its pixels are lit. For real images and the model's images of the
same masks and fans (drawn with its shading off), the residual ``real - model`` per cell is
what the real scan has that the mask does not explain and the model did not draw: the probe's
bands, a shadowed side, a brighter far field. Then:

- the mean row is the residuals' mean, less half the drawn layouts' variance per cell (a
  seed's gain is ``exp`` of a normal draw, which averages ``exp(mean + variance / 2)``:
  without this, the bundled model's images came out 4–8 grey levels brighter on average);
- the directions are the residuals' principal components, each scaled by the residuals'
  spread along it (times ``strength``): a seed's standard normal coefficients draw layouts
  with the residuals' spread and correlations (bands that span the width, one side darker);
- a cell missing from a pair (too few lit pixels) counts as the mean residual.

Fit on the valid split, as the other output settings are (:mod:`.tone_fit`): a model trained
with per-image grey-level losses matches the train masks' own layout more closely than unseen
masks', which would shrink the residuals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import ProgressCallback, StopCheck, never_stop, no_progress

DEFAULT_COMPONENTS = 24
DEFAULT_STRENGTH = 1.0
LOG_OFFSET = 5.0  # grey levels added before the log, so near-black cells do not dominate
MIN_PIXELS = 3
ROUNDING = 1e-6  # a spread below this share of the largest is the arithmetic's, not the images'


def shading_maps(images: np.ndarray, fans: list) -> np.ndarray:
    """(N, GRID) float64 log mean grey level per grid cell of (N, H, W) images in their fans;
    NaN for a cell with fewer than :data:`MIN_PIXELS` lit pixels."""
    from ..nets.shading import GRID, grid_cells

    height, width = images.shape[-2:]
    out = np.full((len(images), GRID), np.nan)
    for i, (image, fan) in enumerate(zip(images, fans)):
        cells = grid_cells(fan, height, width)
        keep = (cells >= 0) & (image > 0)
        counts = np.bincount(cells[keep], minlength=GRID)
        sums = np.bincount(cells[keep], weights=image[keep].astype(np.float64), minlength=GRID)
        enough = counts >= MIN_PIXELS
        out[i, enough] = np.log(sums[enough] / counts[enough] + LOG_OFFSET)
    return out


def fit_shading(real: np.ndarray, synthetic: np.ndarray, fans: list, components: int = DEFAULT_COMPONENTS,
                strength: float = DEFAULT_STRENGTH) -> dict:
    """{"shading": rows, "explained": share of the residuals' variance the directions keep,
    "spread": the residuals' standard deviation per cell, averaged (log units)} for ``real``
    and ``synthetic`` images of the same masks and ``fans``."""
    from ..nets.shading import MAX_COMPONENTS, MAX_LOG_GAIN

    if not 0 <= components <= MAX_COMPONENTS:
        raise ValueError(f"components must be between 0 and {MAX_COMPONENTS}")
    if not 0.0 < strength <= 3.0:
        raise ValueError("strength must be above 0 and at most 3")
    residuals = shading_maps(real, fans) - shading_maps(synthetic, fans)
    seen = np.isfinite(residuals)
    counts = seen.sum(axis=0)
    mean = np.where(counts > 0, np.where(seen, residuals, 0.0).sum(axis=0) / np.maximum(counts, 1), 0.0)
    deviations = np.where(seen, residuals, mean) - mean
    _, singular, directions = np.linalg.svd(deviations, full_matrices=False)
    spread = singular / np.sqrt(max(len(deviations) - 1, 1))
    # a direction the residuals do not vary along (the last of N images' N, once their mean is
    # taken off; every one when they do not vary) would draw nothing but cost a pass per image
    varied = int(np.sum(spread > ROUNDING * max(float(spread.max(initial=0.0)), 1e-12)))
    k = min(components, varied)
    drawn = [strength * spread[j] * directions[j] for j in range(k)]
    # a cell's gain exp(mean + sum c_j d_j) averages exp(mean + sum d_j^2 / 2) over seeds:
    # the mean row gives that half-variance back, so the drawn layouts keep the images'
    # average grey level where the residuals' mean puts it
    rows = [mean - 0.5 * np.sum(np.square(drawn), axis=0)] + drawn
    rows = tuple(tuple(round(float(v), 4) for v in np.clip(row, -MAX_LOG_GAIN, MAX_LOG_GAIN)) for row in rows)
    if not any(any(row) for row in rows):  # nothing to draw: no shading rather than one of zeros
        rows = ()
    total = float((spread ** 2).sum())
    return {"shading": rows, "explained": float((spread[:k] ** 2).sum() / total) if total > 0 else 1.0,
            "spread": float(deviations.std(axis=0).mean())}


def fit_model_shading(data: Path | str, model, split: str = "valid", components: int = DEFAULT_COMPONENTS,
                      strength: float = DEFAULT_STRENGTH, every: int = 1,
                      progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_shading` for ``model`` (a loaded fan model) on a prepared dataset's ``split``;
    adds "images", the number of pairs used. ``model`` is left as it was; CardiganError for a
    model without a generator or without a fan."""
    from .fit_images import fan_model_with, real_and_drawn

    model = fan_model_with(model, "shading", shading=())
    images, _labels, fans, synthetic = real_and_drawn(data, model, split, every, "fitting the shading",
                                                      progress, should_stop, any_size=True)
    return {**fit_shading(images, synthetic, fans, components, strength), "images": len(images)}
