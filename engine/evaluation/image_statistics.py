"""Which simple statistics tell a model's images from real ones, and how much they vary.

The two-sample test (:mod:`.realism`) says *that* a classifier tells the sets apart; its
evidence (:mod:`.evidence`) says *where*. This module says *by what*, in named numbers a
reader can check: each image is described by a fixed list of statistics taken inside its fan
(:data:`STATISTICS`), and the two sets are compared statistic by statistic and all together.

Per image, over the pixels at least :data:`MARGIN` pixels inside the fan's outline:

- ``grey qN``: the grey level's N-th percentile;
- ``detail sS qN``: the N-th percentile of the detail finer than a Gaussian blur of S pixels
  (the image minus its blur taken within the fan, :func:`engine.fan.blur_within`): the
  speckle's spread and skew at three scales;
- ``axial grad qN`` / ``lateral grad qN``: percentiles of the gradient's size along the beam
  and across it (the fan's own beam axes, :meth:`engine.fan.Fan.beam_axes`) after a slight
  blur;
- ``contrast qN``: percentiles of the local standard deviation over the local mean (7 x 7);
- ``spectrum rK dir``: the log power of the :data:`WINDOW`-pixel windows wholly inside the fan
  (:func:`.texture.tapered_windows`), averaged over radial band K of :data:`RADIAL_BANDS` and
  one of three orientations of the frequency (``horizontal``: the pattern changes from column
  to column, as vertical stripes do; ``vertical``: from row to row; ``diagonal``: between).
  NaN when no window fits.

Compared (:func:`statistic_tells`):

- per statistic, the ROC AUC of the statistic itself as a score for "synthetic" (above 0.5:
  ours run higher; below: lower; 0.5: no difference), the two sets' means and standard
  deviations across images, and the *spread ratio*, ours over real's: below 1, our images are
  more alike than real ones in that respect;
- together: a logistic regression on every statistic (standardised, L2-regularised), trained
  on the images of half of the patients and scored (ROC AUC) on the other half, with the
  two-sample test's seeded patient split, so it cannot win by recognising a patient.

A high "together" AUC with no single statistic far from 0.5 means the tell is in how the
statistics go together; a low one while the two-sample test reads high means the classifier
reads something none of these statistics hold (how the texture is arranged).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from scipy import ndimage

from ..fan import blur_within, edge_distance, fan_alpha, pixel_centres
from .realism import held_out_rows, roc_auc
from .texture import tapered_windows

MARGIN = 4  # pixels inside the fan's outline: its edge is the evidence module's business
GREY_QUANTILES = (5, 25, 50, 75, 95)
DETAIL_SIGMAS = (1, 2, 4)
DETAIL_QUANTILES = (2, 25, 50, 75, 98)
GRADIENT_QUANTILES = (50, 90)
CONTRAST_QUANTILES = (10, 50, 90)
CONTRAST_SIZE = 7
WINDOW = 32
RADIAL_BANDS = ((0.03, 0.08), (0.08, 0.14), (0.14, 0.21), (0.21, 0.29), (0.29, 0.38), (0.38, 0.5))
ORIENTATIONS = ("horizontal", "diagonal", "vertical")
REGULARISATION = 1.0  # the logistic regression's L2 weight (on standardised statistics)

STATISTICS = (
    tuple(f"grey q{q}" for q in GREY_QUANTILES)
    + tuple(f"detail s{s} q{q}" for s in DETAIL_SIGMAS for q in DETAIL_QUANTILES)
    + tuple(f"{axis} grad q{q}" for axis in ("axial", "lateral") for q in GRADIENT_QUANTILES)
    + tuple(f"contrast q{q}" for q in CONTRAST_QUANTILES)
    + tuple(f"spectrum r{k} {o}" for k in range(len(RADIAL_BANDS)) for o in ORIENTATIONS)
)


@lru_cache(maxsize=4)
def _band_masks(window: int = WINDOW) -> tuple[np.ndarray, ...]:
    """(window, window // 2 + 1) bool masks of the rfft2 bins in each radial band x orientation,
    in :data:`STATISTICS`' order."""
    fy = np.fft.fftfreq(window)[:, None]
    fx = np.fft.rfftfreq(window)[None, :]
    radius = np.hypot(fy, fx)
    # 0 where only the columns' frequency is set (a pattern varying along each row)
    angle = np.degrees(np.arctan2(np.abs(fy), np.abs(fx)))
    cones = ((angle < 22.5), (angle >= 22.5) & (angle < 67.5), (angle >= 67.5))
    return tuple((radius >= lo) & (radius < hi) & cone for lo, hi in RADIAL_BANDS for cone in cones)


def image_statistics(image: np.ndarray, fan) -> np.ndarray:
    """The :data:`STATISTICS` of one (H, W) uint8 image in its fan, float64 in that order."""
    height, width = image.shape
    x = np.asarray(image, dtype=np.float64)
    alpha = fan_alpha(fan, height, width)
    inside = edge_distance(fan, height, width) >= MARGIN
    if not inside.any():
        return np.full(len(STATISTICS), np.nan)
    values = list(np.percentile(x[inside], GREY_QUANTILES))
    for sigma in DETAIL_SIGMAS:
        detail = x - blur_within(x, alpha, sigma)
        values += list(np.percentile(detail[inside], DETAIL_QUANTILES))
    smooth = ndimage.gaussian_filter(x, 0.7)
    gy, gx = np.gradient(smooth)
    ys, xs = pixel_centres(height, width)
    axial, lateral = fan.beam_axes(ys, xs, height, width)
    for axis in (axial, lateral):
        size = np.abs(gy * axis[0] + gx * axis[1])
        values += list(np.percentile(size[inside], GRADIENT_QUANTILES))
    mean = ndimage.uniform_filter(x, CONTRAST_SIZE)
    spread = np.sqrt(np.maximum(ndimage.uniform_filter(x * x, CONTRAST_SIZE) - mean ** 2, 0.0))
    values += list(np.percentile((spread / (mean + 5.0))[inside], CONTRAST_QUANTILES))
    powers = [np.abs(np.fft.rfft2(patch)) ** 2 for patch in tapered_windows(image, inside, WINDOW)]
    if powers:
        power = np.mean(powers, axis=0)
        values += [float(np.log(power[band].mean() + 1e-8)) for band in _band_masks()]
    else:
        values += [np.nan] * (len(RADIAL_BANDS) * len(ORIENTATIONS))
    return np.asarray(values, dtype=np.float64)


def statistics_of(images: np.ndarray, fans: Sequence) -> np.ndarray:
    """(N, len(STATISTICS)) :func:`image_statistics` of (N, H, W) images, one fan each."""
    return np.stack([image_statistics(image, fan) for image, fan in zip(images, fans)])


def _fill_missing(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """NaNs replaced by their column's median over the training rows (0 where none is known)."""
    x = x.copy()
    with warnings.catch_warnings():  # a column without a known value is expected (tiny fans)
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(np.where(train[:, None], x, np.nan), axis=0)
    medians = np.where(np.isfinite(medians), medians, 0.0)
    missing = ~np.isfinite(x)
    x[missing] = np.take(medians, np.nonzero(missing)[1])
    return x


def logistic_auc(x: np.ndarray, y: np.ndarray, test: np.ndarray) -> float:
    """ROC AUC on the ``test`` rows of an L2-regularised logistic regression fitted on the
    others (features standardised by the training rows); NaN without both classes on both
    sides."""
    train = ~test
    if len(set(y[train])) < 2 or len(set(y[test])) < 2:
        return float("nan")
    x = _fill_missing(np.asarray(x, dtype=np.float64), train)
    centre, scale = x[train].mean(axis=0), x[train].std(axis=0)
    z = torch.from_numpy((x - centre) / np.where(scale > 1e-12, scale, 1.0))
    target = torch.from_numpy(np.asarray(y, dtype=np.float64))
    weights = torch.zeros(z.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], lr=1.0, max_iter=500, line_search_fn="strong_wolfe")
    rows = torch.from_numpy(train)

    def closure():
        optimizer.zero_grad()
        logits = z[rows] @ weights + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target[rows])
        loss = loss + REGULARISATION * (weights ** 2).sum() / (2 * int(train.sum()))
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        scores = (z[torch.from_numpy(test)] @ weights + bias).numpy()
    return roc_auc(scores, y[test])


def statistic_tells(real: np.ndarray, synthetic: np.ndarray, real_groups: Sequence[str],
                    synthetic_groups: Sequence[str], seed: int = 0) -> dict:
    """Compare two sets of :func:`statistics_of` rows ((N, S) and (M, S)).

    Returns {"together": held-out AUC of all statistics at once, "median_spread_ratio": the
    median over statistics of ours' spread over real's, "statistics": {name: {"auc",
    "real_mean", "real_sd", "synthetic_mean", "synthetic_sd", "spread_ratio"}}} in
    :data:`STATISTICS`' order.
    """
    real, synthetic = np.asarray(real, np.float64), np.asarray(synthetic, np.float64)
    if real.shape[1] != len(STATISTICS) or synthetic.shape[1] != len(STATISTICS):
        raise ValueError(f"expected {len(STATISTICS)} statistics per image")
    per = {}
    for j, name in enumerate(STATISTICS):
        r, s = real[:, j][np.isfinite(real[:, j])], synthetic[:, j][np.isfinite(synthetic[:, j])]
        r_sd, s_sd = (float(r.std()) if r.size else float("nan")), (float(s.std()) if s.size else float("nan"))
        per[name] = {
            "auc": roc_auc(np.concatenate([r, s]), np.r_[np.zeros(r.size), np.ones(s.size)]),
            "real_mean": float(r.mean()) if r.size else float("nan"), "real_sd": r_sd,
            "synthetic_mean": float(s.mean()) if s.size else float("nan"), "synthetic_sd": s_sd,
            "spread_ratio": s_sd / r_sd if r_sd > 1e-12 else float("nan"),
        }
    x = np.concatenate([real, synthetic])
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    together = logistic_auc(x, y, held_out_rows(real_groups, synthetic_groups, seed))
    ratios = [v["spread_ratio"] for v in per.values() if np.isfinite(v["spread_ratio"])]
    return {"together": together, "median_spread_ratio": float(np.median(ratios)) if ratios else float("nan"),
            "statistics": per}


def strongest(tells: dict, count: int = 12) -> list[str]:
    """The names of the ``count`` statistics whose AUC lies furthest from 0.5 (NaN last)."""
    items = tells["statistics"]

    def distance(name):
        auc = items[name]["auc"]
        return -abs(auc - 0.5) if np.isfinite(auc) else 1.0

    return sorted(items, key=distance)[:count]
