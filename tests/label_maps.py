"""Test helper: small label maps in our ids."""

from __future__ import annotations

import numpy as np


def small_heart() -> np.ndarray:
    """A 40 x 32 mask: the cavity (1) inside the wall (2), the atrium (3) below."""
    labels = np.zeros((40, 32), np.uint8)
    labels[4:26, 6:26] = 2
    labels[7:23, 10:22] = 1
    labels[27:38, 9:23] = 3
    return labels
