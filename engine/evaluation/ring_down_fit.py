"""Fitting a fan model's ring-down (:mod:`engine.nets.ring_down`) to the arcs of real images'
near field, and the figure that measures them.

**The figure.** For each image, the mean grey level of every arc bin (:data:`~engine.nets.
ring_down.BIN` of the fan's depth, pixels more than :data:`EDGE_MARGIN` from the fan's sides)
out to :data:`~engine.nets.ring_down.REACH` of the depth is its *arc profile*; the profile minus
its own Gaussian trend (sigma :data:`TREND` bins) is its *bands*. :func:`band_strength` is the
median over images of the bands' standard deviation in each depth range of
:data:`RANGES`: how strongly the near field is banded along the arcs.

**The fit.** The bands from :data:`START` of the depth on are taken in the real images and in the
model's images of the same masks and fans (the model's ring-down off, every other setting as
it is). What the real bands vary by beyond the model's own is the difference of their two
covariance matrices; its positive eigen-directions, each scaled by the square root of its
eigenvalue, become the setting's rows (at most :data:`~engine.nets.ring_down.MAX_ROWS`, those
that hold :data:`KEEP` of the positive variance), tapered to 0 over the last :data:`TAPER` bins
so nothing steps at the reach. A seed's profile, a standard normal combination of the rows,
then adds to the model's bands the covariance real images have in excess. Fit on the valid
split, as the other output settings are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..nets.ring_down import BIN, BINS, MAX_ROWS, MAX_VALUE
from ..progress import ProgressCallback, StopCheck, never_stop, no_progress

EDGE_MARGIN = 3.0  # pixels from the fan's straight sides
TREND = 3.0  # bins: the Gaussian whose trend is taken off a profile
START = 0.02  # of the depth: the probe face before it is left alone
TAPER = 10  # bins
KEEP = 0.95
ROUNDING = 1e-9  # an eigenvalue below this share of the largest is the arithmetic's, not the images'
RANGES = ((0.02, 0.06), (0.06, 0.12), (0.12, 0.2), (0.2, 0.3), (0.3, 0.4))


def arc_profiles(images: np.ndarray, fans: list) -> np.ndarray:
    """(N, BINS) float64 mean grey level (0-255) of each arc bin of each (H, W) uint8 image."""
    from ..fan import edge_distance
    from ..nets.fan_split import fan_depth, fan_inside

    height, width = images.shape[-2:]
    out = np.zeros((len(images), BINS))
    for i, (image, fan) in enumerate(zip(images, fans)):
        inside = (fan_inside(fan, height, width)[0] > 0) & (edge_distance(fan, height, width) > EDGE_MARGIN)
        which = np.floor(fan_depth(fan, height, width) / BIN).astype(np.int64)
        use = inside & (which >= 0) & (which < BINS)
        sums = np.bincount(which[use], image[use].astype(np.float64), BINS)
        counts = np.bincount(which[use], None, BINS)
        out[i] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out


def bands(profiles: np.ndarray) -> np.ndarray:
    """Each profile minus its Gaussian trend (sigma :data:`TREND` bins); a bin with no pixels
    takes its nearest neighbour's value first."""
    from scipy.ndimage import gaussian_filter1d

    filled = np.array(profiles, dtype=np.float64)
    for row in filled:
        missing = ~np.isfinite(row)
        if missing.all():
            row[:] = 0.0
        elif missing.any():
            row[missing] = np.interp(np.flatnonzero(missing), np.flatnonzero(~missing), row[~missing])
    return filled - gaussian_filter1d(filled, TREND, axis=1, mode="nearest")


def band_strength(profiles: np.ndarray) -> list[float]:
    """The median over images of the bands' standard deviation in each range of :data:`RANGES`."""
    residual = bands(profiles)
    out = []
    for low, high in RANGES:
        columns = slice(int(round(low / BIN)), int(round(high / BIN)))
        out.append(float(np.median(residual[:, columns].std(axis=1))))
    return out


def fit_rows(real_profiles: np.ndarray, model_profiles: np.ndarray) -> tuple[tuple, float]:
    """(the ring-down rows, the share of the real bands' variance beyond START they add) from
    the arc profiles of real images and of the model's images of the same masks."""
    first = int(round(START / BIN))
    real, drawn = bands(real_profiles)[:, first:], bands(model_profiles)[:, first:]
    excess = np.cov(real, rowvar=False) - np.cov(drawn, rowvar=False)
    values, vectors = np.linalg.eigh((excess + excess.T) / 2)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    positive = values > ROUNDING * max(float(np.abs(values).max()), 1e-12)  # not rounding error's
    if not positive.any():
        return (), 0.0
    cumulative = np.cumsum(values[positive]) / values[positive].sum()
    count = min(MAX_ROWS, int(np.searchsorted(cumulative, KEEP) + 1))
    taper = np.ones(BINS - first)
    taper[-TAPER:] = np.linspace(1.0, 0.0, TAPER + 1)[1:]
    rows = []
    for k in range(count):
        row = np.zeros(BINS)
        row[first:] = vectors[:, k] * np.sqrt(values[k]) * taper / 127.5
        row = tuple(round(float(v), 5) for v in np.clip(row, -MAX_VALUE, MAX_VALUE))
        if any(row):  # a direction too weak to survive the rounding draws nothing
            rows.append(row)
    if not rows:
        return (), 0.0
    share = float(values[:count].sum() / max(np.trace(np.cov(real, rowvar=False)), 1e-12))
    return tuple(rows), share


def fit_model_ring_down(data: Path | str, model, split: str = "valid", every: int = 1,
                        progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """{"ring_down": rows, "share", "real", "synthetic", "fitted": :func:`band_strength` of the
    real images, the model's before and after, "images"} for ``model`` (a loaded fan model) on
    a prepared dataset's ``split``; ``model`` is left as it was. CardiganError for a model
    without a generator or without a fan."""
    from ..models.tuning import tune_model
    from ..synthesizer import Synthesizer
    from .evaluate import synthesize_all
    from .fit_images import FIT_SEED, fan_model_with, real_and_drawn

    model = fan_model_with(model, "a ring-down", ring_down=())
    images, labels, fans, synthetic = real_and_drawn(data, model, split, every, "fitting the ring-down",
                                                     progress, should_stop)
    real_profiles, model_profiles = arc_profiles(images, fans), arc_profiles(synthetic, fans)
    rows, share = fit_rows(real_profiles, model_profiles)
    fitted = model_profiles
    if rows:
        after = synthesize_all(Synthesizer(tune_model(model, ring_down=rows), device="cpu"), labels, FIT_SEED,
                               "checking the ring-down", progress, should_stop, fans=fans)
        fitted = arc_profiles(after, fans)
    return {"ring_down": rows, "share": share, "real": band_strength(real_profiles),
            "synthetic": band_strength(model_profiles), "fitted": band_strength(fitted), "images": len(images)}
