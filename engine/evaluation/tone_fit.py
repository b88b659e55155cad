"""Fitting a model's output tone (:mod:`engine.nets.tone`) to real images' grey levels.

For each candidate tone, the mean grey level per region (background inside the fan, LV cavity,
myocardium, left atrium) of the model's images under that curve is compared with the real
images' of the same masks; the best tone is the one whose largest region gap is smallest.

The model's images are made once, with its own tone set to 1, and each candidate curve is
applied to them afterwards (the grain, which the model adds after the curve, has zero mean).

Fit on the valid split, as a validation split's hyperparameter (the test split stays for
claims). Not on the train split: a model trained with the per-image region loss learns each
training mask's own brightness, so its images of train masks match the real ones even when
its images of unseen masks are several grey levels darker (measured: 7-12 grey levels on the
atrium and the background for one such model).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fan import fan_mask
from ..nets.tone import tone_grey
from ..progress import ProgressCallback, StopCheck, never_stop, no_progress
from .realism import REGIONS

DEFAULT_TONES = tuple(round(0.70 + 0.02 * k, 2) for k in range(31))  # 0.70 ... 1.30


def region_means(images: np.ndarray, labels: np.ndarray, insides: np.ndarray) -> dict[str, float]:
    """Mean grey level per region of (N, H, W) images; the background counts inside the fan."""
    out = {}
    for name, label in REGIONS:
        region = labels == label
        if label == 0:
            region &= insides
        out[name] = float(images[region].astype(np.float64).mean()) if region.any() else float("nan")
    return out


def fit_tone(real: np.ndarray, synthetic: np.ndarray, labels: np.ndarray, insides: np.ndarray,
             tones=DEFAULT_TONES) -> dict:
    """{"real": region means, "gaps": {tone: {region: synthetic - real}}, "best": tone}."""
    target = region_means(real, labels, insides)
    gaps = {}
    for tone in tones:
        means = region_means(tone_grey(synthetic.astype(np.float64), tone), labels, insides)
        gaps[tone] = {name: means[name] - target[name] for name in target}
    best = min(tones, key=lambda t: max(abs(g) for g in gaps[t].values() if np.isfinite(g)))
    return {"real": target, "gaps": gaps, "best": best}


def fit_model_tone(data: Path | str, model, split: str = "valid", tones=DEFAULT_TONES, every: int = 1,
                   progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_tone` for ``model`` (a loaded generator model) on a prepared dataset's
    ``split``; adds "images", the number of pairs used. ``model`` is left as it was;
    CardiganError for a model without a generator (the simulator)."""
    from ..models.tuning import tune_model
    from .fit_images import real_and_drawn

    model = tune_model(model, tone=1.0)
    images, labels, fans, synthetic = real_and_drawn(data, model, split, every, "fitting the tone", progress,
                                                     should_stop, any_size=True)
    insides = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(images, fans)])
    return {**fit_tone(images, synthetic, labels, insides, tones), "images": len(images)}
