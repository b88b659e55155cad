"""Pixel-exact shapes for the painting tools, in image coordinates.

Coordinates are floats in pixel units with pixel ``(row i, column j)`` covering
``[j, j+1) x [i, i+1)``, so its centre is ``(j + 0.5, i + 0.5)``. A shape covers the pixels
whose centres fall inside it; results are ``(region, mask)`` pairs where ``region`` is a pair
of slices into the label map and ``mask`` a boolean array of that region's shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Region = tuple[slice, slice]


def snap_brush_centre(x: float, y: float, diameter: int) -> tuple[float, float]:
    """Centre a brush of odd diameter on a pixel centre and an even one on a pixel corner,
    so a brush always covers the same, symmetric set of pixels."""
    if diameter % 2:
        return math.floor(x) + 0.5, math.floor(y) + 0.5
    return float(round(x)), float(round(y))


def capsule(shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float],
            diameter: int) -> tuple[Region, np.ndarray] | None:
    """Pixels within ``diameter / 2`` of the segment p0-p1 (a disc when p0 == p1).

    The brush centres are snapped with :func:`snap_brush_centre`. None when nothing of the
    shape lies inside the image.
    """
    height, width = shape
    diameter = max(1, int(diameter))
    x0, y0 = snap_brush_centre(*p0, diameter)
    x1, y1 = snap_brush_centre(*p1, diameter)
    radius = diameter / 2.0
    c0 = max(0, math.floor(min(x0, x1) - radius))
    c1 = min(width, math.ceil(max(x0, x1) + radius) + 1)
    r0 = max(0, math.floor(min(y0, y1) - radius))
    r1 = min(height, math.ceil(max(y0, y1) + radius) + 1)
    if c0 >= c1 or r0 >= r1:
        return None
    px = np.arange(c0, c1, dtype=np.float64)[None, :] + 0.5
    py = np.arange(r0, r1, dtype=np.float64)[:, None] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)
        nx, ny = x0 + t * dx, y0 + t * dy
    else:
        nx, ny = x0, y0
    inside = (px - nx) ** 2 + (py - ny) ** 2 <= radius * radius + 1e-6
    if not inside.any():
        return None
    return (slice(r0, r1), slice(c0, c1)), inside


def square_stroke(shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float],
                  side: int) -> tuple[Region, np.ndarray] | None:
    """Pixels swept by an axis-aligned square of ``side`` pixels moved from p0 to p1 (the
    square brush; a single square when p0 == p1). Centres snap as for the round brush."""
    height, width = shape
    side = max(1, int(side))
    x0, y0 = snap_brush_centre(*p0, side)
    x1, y1 = snap_brush_centre(*p1, side)
    half = side / 2.0
    c0, c1 = max(0, math.floor(min(x0, x1) - half)), min(width, math.ceil(max(x0, x1) + half) + 1)
    r0, r1 = max(0, math.floor(min(y0, y1) - half)), min(height, math.ceil(max(y0, y1) + half) + 1)
    if c0 >= c1 or r0 >= r1:
        return None
    px = np.arange(c0, c1, dtype=np.float64)[None, :] + 0.5
    py = np.arange(r0, r1, dtype=np.float64)[:, None] + 0.5
    # a centre is covered when some t in [0, 1] puts the square's centre within half a side
    # of it on both axes: intersect the t-interval each axis allows
    low, high = np.zeros(np.broadcast_shapes(px.shape, py.shape)), np.ones(np.broadcast_shapes(px.shape, py.shape))
    for p, a, d in ((px, x0, x1 - x0), (py, y0, y1 - y0)):
        if abs(d) < 1e-12:
            ok = np.abs(p - a) < half
            low = np.where(ok, low, 2.0)
            continue
        t_a, t_b = (p - half - a) / d, (p + half - a) / d
        low, high = np.maximum(low, np.minimum(t_a, t_b)), np.minimum(high, np.maximum(t_a, t_b))
    inside = low < high + 1e-9
    if not inside.any():
        return None
    return (slice(r0, r1), slice(c0, c1)), inside


def polygon(shape: tuple[int, int], points: Sequence[tuple[float, float]]
            ) -> tuple[Region, np.ndarray] | None:
    """Pixels whose centres lie inside the closed polygon (even-odd rule)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        return None
    height, width = shape
    r0 = max(0, math.floor(pts[:, 1].min()))
    r1 = min(height, math.ceil(pts[:, 1].max()) + 1)
    c0 = max(0, math.floor(pts[:, 0].min()))
    c1 = min(width, math.ceil(pts[:, 0].max()) + 1)
    if r0 >= r1 or c0 >= c1:
        return None
    xa, ya = pts[:, 0], pts[:, 1]
    xb, yb = np.roll(xa, -1), np.roll(ya, -1)
    centres_x = np.arange(c0, c1, dtype=np.float64) + 0.5
    inside = np.zeros((r1 - r0, c1 - c0), dtype=bool)
    for row in range(r0, r1):
        yc = row + 0.5
        crosses = (ya <= yc) != (yb <= yc)
        if not crosses.any():
            continue
        xs = xa[crosses] + (yc - ya[crosses]) * (xb[crosses] - xa[crosses]) / (yb[crosses] - ya[crosses])
        xs.sort()
        # a centre is inside when an odd number of crossings lie to its left
        count = np.searchsorted(xs, centres_x, side="right")
        inside[row - r0] = count % 2 == 1
    if not inside.any():
        return None
    return (slice(r0, r1), slice(c0, c1)), inside


def flood_region(labels: np.ndarray, x: int, y: int) -> tuple[Region, np.ndarray] | None:
    """The 4-connected region of pixels holding the same value as pixel (x, y).

    A scanline fill: each horizontal run is found with numpy, so the Python loop runs once
    per run, not once per pixel.
    """
    height, width = labels.shape
    if not (0 <= x < width and 0 <= y < height):
        return None
    same = labels == labels[y, x]
    region = np.zeros_like(same)
    stack = [(y, x)]
    while stack:
        row, col = stack.pop()
        if region[row, col]:
            continue
        line = same[row]
        left_run = line[col::-1]
        left = col - (int(np.argmin(left_run)) if not left_run.all() else col + 1) + 1
        right_run = line[col:]
        right = col + (int(np.argmin(right_run)) if not right_run.all() else width - col) - 1
        region[row, left:right + 1] = True
        for nrow in (row - 1, row + 1):
            if 0 <= nrow < height:
                open_ = same[nrow, left:right + 1] & ~region[nrow, left:right + 1]
                if open_.any():
                    starts = np.flatnonzero(open_ & ~np.concatenate(([False], open_[:-1])))
                    stack.extend((nrow, left + int(s)) for s in starts)
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    return box, region[box]
