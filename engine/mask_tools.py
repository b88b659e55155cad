"""Whole-mask operations on label maps (no Qt): islands, smoothing, margins.

Each takes a (H, W) uint8 label map and returns a new one; the app wraps each in one undo
step. Pixels a tool takes away from a class are given to the class most of their
neighbours hold, so no hole of background opens inside the heart.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .labels import BACKGROUND, NUM_CLASSES

FOUR = ndimage.generate_binary_structure(2, 1)


def _refill(labels: np.ndarray, holes: np.ndarray, avoid: int | None = None) -> np.ndarray:
    """Give every ``holes`` pixel the label of the nearest pixel outside the holes (and, with
    ``avoid``, not of that class)."""
    if not holes.any():
        return labels
    sources = ~holes if avoid is None else ~holes & (labels != avoid)
    if not sources.any():
        out = labels.copy()
        out[holes] = BACKGROUND
        return out
    _, (rows, cols) = ndimage.distance_transform_edt(~sources, return_indices=True)
    out = labels.copy()
    out[holes] = labels[rows[holes], cols[holes]]
    return out


def keep_largest(labels: np.ndarray, classes: tuple[int, ...] = (1, 2, 3)) -> np.ndarray:
    """Keep only the largest 4-connected piece of each class in ``classes``."""
    labels = np.asarray(labels, np.uint8)
    holes = np.zeros(labels.shape, bool)
    for label in classes:
        pieces, count = ndimage.label(labels == label, FOUR)
        if count > 1:
            sizes = np.bincount(pieces.ravel())
            sizes[0] = 0
            holes |= (pieces > 0) & (pieces != int(np.argmax(sizes)))
    return _refill(labels, holes)


def remove_islands(labels: np.ndarray, min_pixels: int, classes: tuple[int, ...] = (1, 2, 3)) -> np.ndarray:
    """Remove the pieces of each class smaller than ``min_pixels``."""
    labels = np.asarray(labels, np.uint8)
    holes = np.zeros(labels.shape, bool)
    for label in classes:
        pieces, count = ndimage.label(labels == label, FOUR)
        if count:
            sizes = np.bincount(pieces.ravel())
            small = np.flatnonzero(sizes < min_pixels)
            holes |= np.isin(pieces, small[small > 0])
    return _refill(labels, holes)


def smooth(labels: np.ndarray, radius: int, label: int | None = None, method: str = "median") -> np.ndarray:
    """Smooth class outlines: ``median`` (a majority vote in a disc of ``radius``), ``open``
    (removes thin spurs) or ``close`` (fills small gaps and notches); one class or all."""
    labels = np.asarray(labels, np.uint8)
    disc = _disc(radius)
    classes = range(NUM_CLASSES) if label is None else (label,)
    if method == "median":
        weights = disc.astype(np.float32)
        votes = np.stack([ndimage.convolve((labels == c).astype(np.float32), weights, mode="nearest")
                          for c in range(NUM_CLASSES)])
        if label is None:
            return votes.argmax(0).astype(np.uint8)
        share = votes[label] / weights.sum()
        out = labels.copy()
        out[(share > 0.5) & (labels != label)] = label
        return _refill(out, (share < 0.5) & (labels == label), avoid=label)
    out = labels.copy()
    for c in classes:
        region = labels == c
        if method == "open":
            kept = ndimage.binary_opening(region, disc)
            out = _refill(out, region & ~kept, avoid=c)
        elif method == "close":
            grown = ndimage.binary_closing(region, disc) & ~region
            out[grown] = c
        else:
            raise ValueError(f"unknown smoothing {method!r} (median, open or close)")
    return out


def margin(labels: np.ndarray, label: int, pixels: int) -> np.ndarray:
    """Grow (``pixels`` > 0) or shrink (< 0) one class by that many pixels."""
    labels = np.asarray(labels, np.uint8)
    region = labels == label
    disc = _disc(abs(pixels))
    if pixels > 0:
        out = labels.copy()
        out[ndimage.binary_dilation(region, disc) & ~region] = label
        return out
    if pixels < 0:
        kept = ndimage.binary_erosion(region, disc)
        return _refill(labels, region & ~kept, avoid=label)
    return labels.copy()


def _disc(radius: int) -> np.ndarray:
    r = max(0, int(radius))
    ys, xs = np.mgrid[-r:r + 1, -r:r + 1]
    return xs * xs + ys * ys <= r * r + r
