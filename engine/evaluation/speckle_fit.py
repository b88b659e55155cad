"""Fitting a fan model's speckle shape (:mod:`engine.nets.speckle_shape`) to real images'
speckle, depth by depth.

Three figures describe the speckle in each depth bin of the fan (:func:`speckle_figures`):
its contrast (the standard deviation of the residual after a Gaussian blur of sigma
:data:`BLUR` pixels) and how much a pixel's residual correlates with its neighbour's one
pixel across the beam (lateral) and one pixel along it (axial), at every second pixel at
least :data:`EDGE_CLEARANCE` pixels inside the fan. Real CAMUS frames at 256x256 (valid
split): lateral 0.53 near the probe rising to 0.88 at the arc, axial 0.50 falling to 0.35.

The fit (:func:`fit_shape`) reshapes the model's images (made once, without a speckle shape)
with every pair of widths on a small grid (:data:`AXIAL_GRID` x :data:`LATERAL_GRID`, the
same pair at every depth), measures the figures again, and gives each bin the pair whose
lateral and axial correlations come nearest the real ones; the bin's gain is the real
contrast over the reshaped one (within :data:`GAIN_RANGE`). The top fifth of the fan (the
first :data:`NEAR_FIELD_BINS` of five) is left neutral: there a real image holds the probe's
clutter and reverberation bands more than speckle, and reshaping the bundled model's near
field to those figures made it easier, not harder, to tell from real (the two-sample AUC on
the near field alone, valid split: 0.961 as drawn, 0.975 reshaped, 0.968 with it left
alone; the heart's part fell from 0.652 to 0.536 either way). The model's images are reshaped
as 8-bit images, not as the network's float output; the difference is below a grey level.

Fit on the valid split, as the tone and the depth gain are (:mod:`engine.evaluation.tone_fit`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fan import edge_distance
from ..nets.depth_gain import depth_fraction
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from .speckle import lagged_correlation

DEFAULT_BINS = 5
BLUR = 1.5  # pixels: the blur whose residual is the speckle the figures describe
EDGE_CLEARANCE = 4  # pixels inside the fan's edge a point must be to count
MIN_POINTS = 30  # points a bin needs in one image for that image to count there
AXIAL_GRID = (0.0, 0.4, 0.6, 0.8, 1.0)
LATERAL_GRID = (0.0, 0.5, 0.8, 1.1, 1.4)
GAIN_RANGE = (0.5, 2.0)
NEAR_FIELD_BINS = 1  # of DEFAULT_BINS: the top fifth of the fan is left as it is (see the module)
FIGURES = ("contrast", "lateral", "axial")


def _bin_points(fan, height: int, width: int, bins: int) -> list[tuple[np.ndarray, ...]]:
    """Per depth bin: (ys, xs, lateral unit vectors, axial unit vectors) of the points used."""
    ys, xs = np.mgrid[:height:2, :width:2].astype(np.float64)
    clear = edge_distance(fan, height, width)[::2, ::2] >= EDGE_CLEARANCE
    which = np.floor(depth_fraction(fan, height, width)[::2, ::2] * bins)
    out = []
    for b in range(bins):
        keep = clear & (which == b)
        y, x = ys[keep], xs[keep]
        axial, lateral = fan.beam_axes(y + 0.5, x + 0.5, height, width)
        out.append((y, x, lateral, axial))
    return out


def speckle_figures(images: np.ndarray, fans: list, bins: int = DEFAULT_BINS) -> np.ndarray:
    """(bins, 3) contrast, lateral and axial lag-1 correlation (:data:`FIGURES`) of (N, H, W)
    images' speckle per depth bin of their fans, averaged over the images that have at least
    :data:`MIN_POINTS` points in the bin (NaN for a bin none has)."""
    from scipy import ndimage

    height, width = images.shape[-2:]
    sums, counts = np.zeros((bins, 3)), np.zeros(bins)
    for image, fan in zip(images, fans):
        picture = np.asarray(image, dtype=np.float64)
        residual = picture - ndimage.gaussian_filter(picture, BLUR)
        for b, (y, x, lateral, axial) in enumerate(_bin_points(fan, height, width, bins)):
            if len(y) < MIN_POINTS:
                continue
            contrast = float(residual[y.astype(np.int64), x.astype(np.int64)].std())
            sums[b] += [contrast, lagged_correlation(residual, y, x, lateral, 1),
                        lagged_correlation(residual, y, x, axial, 1)]
            counts[b] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def reshaped(images: np.ndarray, fans: list, shape: tuple) -> np.ndarray:
    """(N, H, W) uint8 images with ``shape`` applied (:mod:`engine.nets.speckle_shape`)."""
    from ..nets.speckle_shape import shape_one

    out = np.empty_like(images)
    for i, (image, fan) in enumerate(zip(images, fans)):
        shaped = shape_one(image.astype(np.float32) / 127.5 - 1.0, fan, shape)
        out[i] = np.clip(np.rint((shaped + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return out


def fit_shape(real: np.ndarray, synthetic: np.ndarray, fans: list, bins: int = DEFAULT_BINS,
              progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """{"real", "synthetic", "fitted": (bins, 3) figures as lists, "shape": the curve} for
    (N, H, W) uint8 images of the same masks and fans; "fitted" is the synthetic images'
    figures with the fitted curve applied. A bin no image reaches, and the near field's, keep
    (0, 0, 1)."""
    target = speckle_figures(real, fans, bins)
    pairs = [(a, b) for a in AXIAL_GRID for b in LATERAL_GRID]
    measured = {}
    for k, (axial, lateral) in enumerate(pairs):
        if should_stop():
            raise Cancelled()
        progress(Progress("fitting the speckle shape", k, len(pairs)))
        measured[axial, lateral] = speckle_figures(reshaped(synthetic, fans, ((axial, lateral, 1.0),)), fans, bins)
    progress(Progress("fitting the speckle shape", len(pairs), len(pairs)))
    shape = []
    near_field = round(NEAR_FIELD_BINS * bins / DEFAULT_BINS)
    for b in range(bins):
        if b < near_field or not np.isfinite(target[b]).all():
            shape.append((0.0, 0.0, 1.0))
            continue
        best = min(pairs, key=lambda p: float(np.nansum((measured[p][b, 1:] - target[b, 1:]) ** 2)))
        contrast = measured[best][b, 0]
        gain = float(np.clip(target[b, 0] / contrast, *GAIN_RANGE)) if contrast > 0 else 1.0
        shape.append((best[0], best[1], round(gain, 3)))
    shape = tuple(shape)
    return {"real": target.tolist(), "synthetic": speckle_figures(synthetic, fans, bins).tolist(),
            "fitted": speckle_figures(reshaped(synthetic, fans, shape), fans, bins).tolist(), "shape": shape}


def fit_model_speckle_shape(data: Path | str, model, split: str = "valid", bins: int = DEFAULT_BINS,
                            every: int = 2, progress: ProgressCallback = no_progress,
                            should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_shape` for ``model`` (a loaded fan model) on every ``every``-th pair of a
    prepared dataset's ``split``; adds "images", the number of pairs used. ``model`` is left as
    it was; CardiganError for a model without a generator or without a fan."""
    from .fit_images import fan_model_with, real_and_drawn

    model = fan_model_with(model, "a speckle shape", speckle_shape=())
    images, _labels, fans, synthetic = real_and_drawn(data, model, split, every, "synthesizing for the fit",
                                                      progress, should_stop)
    return {**fit_shape(images, synthetic, fans, bins, progress, should_stop), "images": len(images)}
