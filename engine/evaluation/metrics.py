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
