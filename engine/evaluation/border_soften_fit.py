"""Fitting a fan model's border softening (:mod:`engine.nets.border_soften`) to how strongly
real images draw the mask's borders.

For each border of :data:`~engine.evaluation.borders.BORDERS` in turn, the model's images of
a prepared split's masks (its border softening off, every other setting as it is) are softened
at that border alone with each strength of :data:`STRENGTHS`, and the strength whose median
border edge ratio (:func:`~engine.evaluation.borders.border_edge_ratio`) comes nearest the
real images' is kept; a border the model draws no more than :data:`TOLERANCE` more sharply
than real keeps 0.
Every ``every``-th pair is used (2 by default: the ratios are medians over a hundred images).
Fit on the valid split, as the other output settings are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import Progress, ProgressCallback, StopCheck, never_stop, no_progress

STRENGTHS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
TOLERANCE = 0.02  # of the border edge ratio: closer to real than this is left as drawn


def median_ratios(images: np.ndarray, labels: np.ndarray, insides: np.ndarray, first: int, second: int) -> float:
    from .borders import border_edge_ratio

    ratios = [border_edge_ratio(i, m, first, second, inside) for i, m, inside in zip(images, labels, insides)]
    ratios = [r for r in ratios if np.isfinite(r)]
    return float(np.median(ratios)) if ratios else float("nan")


def fit_strengths(real: np.ndarray, synthetic: np.ndarray, labels: np.ndarray, fans: list, seed: int = 0,
                  progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """{"strengths": tuple, "real", "synthetic", "fitted": median ratio per border} for uint8
    images (N, H, W) of the same masks and fans; image i is softened with seed ``seed + i``."""
    from ..fan import fan_mask
    from ..nets.border_soften import BORDER_PAIRS, soften_one
    from ..progress import Cancelled

    insides = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(real, fans)])
    floats = synthetic.astype(np.float32) / 127.5 - 1.0
    strengths, real_ratio, drawn_ratio, fitted = [], [], [], []
    steps = len(BORDER_PAIRS) * (len(STRENGTHS) - 1)
    for k, (first, second) in enumerate(BORDER_PAIRS):
        target = median_ratios(real, labels, insides, first, second)
        best, best_ratio = 0.0, median_ratios(synthetic, labels, insides, first, second)
        real_ratio.append(target)
        drawn_ratio.append(best_ratio)
        for j, strength in enumerate(STRENGTHS[1:]):
            if not (np.isfinite(target) and best_ratio - target > TOLERANCE):
                break
            if should_stop():
                raise Cancelled()
            one = [0.0] * len(BORDER_PAIRS)
            one[k] = strength
            softened = np.stack([
                np.clip(np.round((soften_one(f, m, fan, one, seed + i) + 1.0) * 127.5), 0, 255).astype(np.uint8)
                for i, (f, m, fan) in enumerate(zip(floats, labels, fans))])
            ratio = median_ratios(softened, labels, insides, first, second)
            if np.isfinite(ratio) and np.isfinite(target) and abs(ratio - target) < abs(best_ratio - target):
                best, best_ratio = strength, ratio
            progress(Progress("fitting the border softening", k * (len(STRENGTHS) - 1) + j + 1, steps))
        strengths.append(best)
        fitted.append(best_ratio)
    return {"strengths": tuple(float(s) for s in strengths), "real": real_ratio, "synthetic": drawn_ratio,
            "fitted": fitted}


def fit_model_border_soften(data: Path | str, model, split: str = "valid", every: int = 2,
                            progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_strengths` for ``model`` (a loaded fan model) on a prepared dataset's
    ``split``; adds "images". ``model`` is left as it was; CardiganError for a model without a
    generator or without a fan."""
    from .fit_images import FIT_SEED, fan_model_with, real_and_drawn

    model = fan_model_with(model, "a border softening", border_soften=())
    images, labels, fans, synthetic = real_and_drawn(data, model, split, every, "drawing for the border softening",
                                                     progress, should_stop)
    return {**fit_strengths(images, synthetic, labels, fans, FIT_SEED, progress, should_stop), "images": len(images)}
