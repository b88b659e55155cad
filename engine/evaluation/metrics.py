"""Dice scores per class."""

from __future__ import annotations

import numpy as np

from ..labels import LABELS

FOREGROUND = tuple(lab.id for lab in LABELS if lab.id != 0)


def dice(pred: np.ndarray, target: np.ndarray, label: int) -> float:
    """Dice of one class over a batch of maps; 1.0 when the class is absent from both."""
    p, t = pred == label, target == label
    total = int(p.sum()) + int(t.sum())
    if total == 0:
        return 1.0
    return 2.0 * int((p & t).sum()) / total


def dice_per_class(pred: np.ndarray, target: np.ndarray, labels: tuple[int, ...] = FOREGROUND) -> dict:
    """``{class key: dice}`` for the foreground classes plus their ``mean``."""
    assert pred.shape == target.shape, (pred.shape, target.shape)
    keys = {lab.id: lab.key for lab in LABELS}
    scores = {keys[label]: dice(pred, target, label) for label in labels}
    scores["mean"] = float(np.mean(list(scores.values())))
    return scores


CAMUS_STRUCTURES = {  # name: label ids that make up the structure
    "endo": (1,),  # LV endocardium: the cavity
    "epi": (1, 2),  # LV epicardium: cavity and myocardium
    "la": (3,),
}


def camus_dice(pred: np.ndarray, target: np.ndarray) -> dict:
    """Dice as CAMUS papers report it: LV endocardium, LV epicardium and left atrium, each
    computed per image and averaged over the images (an image without the structure in
    either map scores 1), plus their ``mean``."""
    assert pred.shape == target.shape and pred.ndim == 3, (pred.shape, target.shape)
    scores = {}
    for name, ids in CAMUS_STRUCTURES.items():
        p, t = np.isin(pred, ids), np.isin(target, ids)
        inter = (p & t).sum(axis=(1, 2))
        total = p.sum(axis=(1, 2)) + t.sum(axis=(1, 2))
        per_image = np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 1.0)
        scores[name] = float(per_image.mean())
    scores["mean"] = float(np.mean([scores[name] for name in CAMUS_STRUCTURES]))
    return scores
