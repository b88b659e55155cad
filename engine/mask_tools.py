"""Whole-mask operations on label maps (no Qt): islands, smoothing, margins.

Each takes a (H, W) uint8 label map and returns a new one; the app wraps each in one undo
step. Pixels a tool takes away from a class are given to the class most of their
neighbours hold, so no hole of background opens inside the heart.

The image's edge cuts the anatomy, it does not end it: shrinking, opening and closing treat
a class that touches the edge as going on beyond it (it does not pull away from the edge).
"All classes" means the heart's classes; closing them fills only background gaps, so no
class grows across another. :func:`confine` keeps, of what a tool did, only what the
painting rule allows (the studio's "Over" rule, and no heart class painted outside the fan).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

from .labels import BACKGROUND, NUM_CLASSES

FOUR = ndimage.generate_binary_structure(2, 1)
HEART = (1, 2, 3)


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


def keep_largest(labels: np.ndarray, classes: tuple[int, ...] = HEART) -> np.ndarray:
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


def remove_islands(labels: np.ndarray, min_pixels: int, classes: tuple[int, ...] = HEART) -> np.ndarray:
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
    """Smooth class outlines: ``median`` (a majority vote in a disc of ``radius``; a tie keeps
    the pixel's class), ``open`` (removes spurs thinner than the disc) or ``close`` (fills gaps
    and notches narrower than it); one class, or (None) all: the median votes among every
    class, opening and closing work on the heart's classes, and closing them fills only
    background."""
    if method not in ("median", "open", "close"):
        raise ValueError(f"unknown smoothing {method!r} (median, open or close)")
    labels = np.asarray(labels, np.uint8)
    if method == "median":
        return _median(labels, radius, label)
    out = labels.copy()
    if method == "open":
        for c in HEART if label is None else (label,):
            region = labels == c
            out = _refill(out, region & ~_opening(region, radius), avoid=c)
        return out
    if label is not None:
        out[_closing(labels == label, radius) & (labels != label)] = label
        return out
    gaps = np.zeros((len(HEART),) + labels.shape, bool)
    for i, c in enumerate(HEART):
        gaps[i] = _closing(labels == c, radius) & (labels == BACKGROUND)
    claimed = gaps.any(0)
    if claimed.any():  # a gap two classes close goes to the one holding more of the disc
        votes = _votes(labels, radius)[list(HEART)]
        winner = np.asarray(HEART, np.uint8)[np.where(gaps, votes, -1.0).argmax(0)]
        out[claimed] = winner[claimed]
    return out


def margin(labels: np.ndarray, label: int, pixels: int) -> np.ndarray:
    """Grow (``pixels`` > 0) or shrink (< 0) one class by that many pixels."""
    labels = np.asarray(labels, np.uint8)
    region = labels == label
    if pixels > 0:
        out = labels.copy()
        out[_dilate(region, pixels) & ~region] = label
        return out
    if pixels < 0:
        kept = _beyond_edges(lambda r: _erode(r, -pixels), region, -pixels)
        return _refill(labels, region & ~kept, avoid=label)
    return labels.copy()


def confine(before: np.ndarray, after: np.ndarray, over: int | None = None,
            outside: np.ndarray | None = None) -> np.ndarray:
    """``after`` with only the changes the painting rule allows, ``before`` elsewhere: with
    ``over`` a pixel changes only if it holds that class (the brush's paint-over rule); a
    background pixel in ``outside`` (bool, the black beyond the fan) stays background."""
    allowed = after != before
    if over is not None:
        allowed &= before == over
    if outside is not None:
        allowed &= ~(outside & (before == BACKGROUND))
    out = np.array(before, np.uint8)
    out[allowed] = after[allowed]
    return out


def _median(labels: np.ndarray, radius: int, label: int | None) -> np.ndarray:
    votes = _votes(labels, radius)
    if label is None:
        own = np.arange(NUM_CLASSES)[:, None, None] == labels[None]
        return (votes + 0.5 * own).argmax(0).astype(np.uint8)  # a tie keeps the pixel's class
    share = votes[label] / _disc(radius).sum()
    out = labels.copy()
    out[(share > 0.5) & (labels != label)] = label
    return _refill(out, (share < 0.5) & (labels == label), avoid=label)


def _votes(labels: np.ndarray, radius: int) -> np.ndarray:
    """(classes, H, W): how many pixels of each class a disc of ``radius`` holds around each
    pixel (the edge's pixels taken to go on beyond it)."""
    r = max(0, int(radius))
    disc = _disc(r).astype(np.float64)
    padded = np.pad(labels, r, mode="edge")
    return np.stack([np.rint(signal.fftconvolve(padded == c, disc, mode="valid"))
                     for c in range(NUM_CLASSES)]).astype(np.float32)


def _dilate(region: np.ndarray, radius: int) -> np.ndarray:
    """``region`` grown by the disc of ``radius`` (a distance transform: fast at any radius)."""
    if radius <= 0 or not region.any() or region.all():
        return region.copy()
    distance = ndimage.distance_transform_edt(~region)
    return distance * distance <= radius * radius + radius + 1e-6


def _erode(region: np.ndarray, radius: int) -> np.ndarray:
    return ~_dilate(~region, radius)


def _opening(region: np.ndarray, radius: int) -> np.ndarray:
    return _beyond_edges(lambda r: _dilate(_erode(r, radius), radius), region, radius)


def _closing(region: np.ndarray, radius: int) -> np.ndarray:
    return _beyond_edges(lambda r: _erode(_dilate(r, radius), radius), region, radius)


def _beyond_edges(operation, region: np.ndarray, radius: int) -> np.ndarray:
    """``operation`` on ``region`` continued ``radius`` pixels beyond the image's edges as
    the edge pixels are, then cut back to the image."""
    r = max(0, int(radius))
    padded = np.pad(region, r, mode="edge")
    return operation(padded)[r:r + region.shape[0], r:r + region.shape[1]]


def _disc(radius: int) -> np.ndarray:
    r = max(0, int(radius))
    ys, xs = np.mgrid[-r:r + 1, -r:r + 1]
    return xs * xs + ys * ys <= r * r + r
