"""Fitting a fan model's border softening (:mod:`engine.nets.border_soften`) to how strongly
real images draw the mask's borders.

For each border of :data:`~engine.evaluation.borders.BORDERS` in turn, the model's images of
a prepared split's masks (its border softening off, every other setting as it is) are softened
at that border alone with each strength of :data:`STRENGTHS`, and the strength whose median
border edge ratio (:func:`~engine.evaluation.borders.border_edge_ratio`) comes nearest the
real images' is kept; a border drawn within :data:`TOLERANCE` of real is left as it is. A
second round does the same with the other borders softened at their first-round strengths,
since the atrium's three borders meet and softening one fades the others' edges too.
Every ``every``-th pair is used (2 by default: the ratios are medians over a hundred images).
Fit on the valid split, as the other output settings are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import Progress, ProgressCallback, StopCheck, never_stop, no_progress

STRENGTHS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
TOLERANCE = 0.02  # of the border edge ratio: closer to real than this is left as drawn


def median_ratio(images: np.ndarray, labels: np.ndarray, insides: np.ndarray, first: int, second: int) -> float:
    """The median border edge ratio between regions ``first`` and ``second`` over the images
    where they touch (NaN where they touch in none)."""
    from .borders import border_edge_ratio

    ratios = [border_edge_ratio(i, m, first, second, inside) for i, m, inside in zip(images, labels, insides)]
    ratios = [r for r in ratios if np.isfinite(r)]
    return float(np.median(ratios)) if ratios else float("nan")


def _softened(floats: np.ndarray, labels: np.ndarray, fans: list, strengths, seed: int) -> np.ndarray:
    from ..nets.border_soften import soften_one
    from ..synthesizer import to_uint8

    return np.stack([to_uint8(soften_one(f, m, fan, strengths, seed + i)[None])
                     for i, (f, m, fan) in enumerate(zip(floats, labels, fans))])


def fit_strengths(real: np.ndarray, synthetic: np.ndarray, labels: np.ndarray, fans: list, seed: int = 0,
                  progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """{"strengths": tuple, "real", "synthetic", "fitted": median ratio per border} for uint8
    images (N, H, W) of the same masks and fans; image i is softened with seed ``seed + i``.

    Two rounds: first each border alone, then each border again with the others at their
    first-round strengths (the atrium's three borders meet, and their bands overlap)."""
    from ..fan import fan_mask
    from ..nets.border_soften import BORDER_PAIRS
    from ..progress import Cancelled

    insides = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(real, fans)])
    floats = synthetic.astype(np.float32) / 127.5 - 1.0
    targets = [median_ratio(real, labels, insides, a, b) for a, b in BORDER_PAIRS]
    drawn = [median_ratio(synthetic, labels, insides, a, b) for a, b in BORDER_PAIRS]
    strengths = [0.0] * len(BORDER_PAIRS)
    tries = len(STRENGTHS) - 1  # every strength but the border's current one
    steps = 2 * len(BORDER_PAIRS) * tries
    for rounds in range(2):
        others = list(strengths) if rounds else [0.0] * len(BORDER_PAIRS)
        current = _softened(floats, labels, fans, others, seed) if any(others) else synthetic
        chosen = []
        for k, (first, second) in enumerate(BORDER_PAIRS):
            target = targets[k]
            best, best_ratio = others[k], median_ratio(current, labels, insides, first, second)
            if np.isfinite(target) and abs(best_ratio - target) > TOLERANCE:
                trial = list(others)
                for strength in STRENGTHS:
                    if should_stop():
                        raise Cancelled()
                    if strength == others[k]:
                        continue
                    trial[k] = strength
                    images = synthetic if not any(trial) else _softened(floats, labels, fans, trial, seed)
                    ratio = median_ratio(images, labels, insides, first, second)
                    if np.isfinite(ratio) and abs(ratio - target) < abs(best_ratio - target):
                        best, best_ratio = strength, ratio
            chosen.append(best)
            progress(Progress("fitting the border softening", (rounds * len(BORDER_PAIRS) + k + 1) * tries, steps))
        strengths = chosen
    final = _softened(floats, labels, fans, strengths, seed) if any(strengths) else synthetic
    fitted = [median_ratio(final, labels, insides, a, b) for a, b in BORDER_PAIRS]
    return {"strengths": tuple(float(s) for s in strengths), "real": targets, "synthetic": drawn, "fitted": fitted}


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
