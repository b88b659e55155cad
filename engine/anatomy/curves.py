"""Plane curves for the shape model: outlines of regions, resampling, smoothing, filling.

Points are ``(N, 2)`` float arrays of ``(x, y)`` in pixel units with the origin at the
image's top-left corner, so pixel ``(row, col)`` has its centre at ``(col + 0.5, row + 0.5)``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def region_outline(region: np.ndarray, rays: int = 256, smooth: float = 0.7) -> np.ndarray:
    """The outline of a (H, W) bool region as ``rays`` points ordered by angle around its
    centroid (the farthest half-level crossing on each ray, so the region is read as
    star-shaped from its centroid, which apical cavities and atria are)."""
    region = np.asarray(region, bool)
    rows, cols = np.nonzero(region)
    cx, cy = cols.mean() + 0.5, rows.mean() + 0.5
    reach = float(np.hypot(cols + 0.5 - cx, rows + 0.5 - cy).max()) + 3.0
    field = ndimage.gaussian_filter(region.astype(np.float32), smooth) if smooth else region.astype(np.float32)
    angles = np.linspace(0.0, 2 * np.pi, rays, endpoint=False)
    radii = np.arange(0.0, reach, 0.25)
    xs = cx + np.cos(angles)[:, None] * radii[None, :]
    ys = cy + np.sin(angles)[:, None] * radii[None, :]
    values = ndimage.map_coordinates(field, [ys - 0.5, xs - 0.5], order=1, cval=0.0)
    inside = values >= 0.5
    last = np.where(inside.any(axis=1), inside.shape[1] - 1 - np.argmax(inside[:, ::-1], axis=1), 0)
    nxt = np.minimum(last + 1, radii.size - 1)
    v0, v1 = values[np.arange(rays), last], values[np.arange(rays), nxt]
    frac = np.clip((v0 - 0.5) / np.maximum(v0 - v1, 1e-6), 0.0, 1.0)
    r = radii[last] + frac * (radii[nxt] - radii[last])
    return np.stack([cx + np.cos(angles) * r, cy + np.sin(angles) * r], axis=1)


def arc_lengths(points: np.ndarray) -> np.ndarray:
    """Cumulative length along an open polyline (0 at its first point)."""
    steps = np.hypot(*np.diff(points, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(steps)])


def resample(points: np.ndarray, count: int) -> np.ndarray:
    """``count`` points evenly spaced by arc length along an open polyline (ends kept)."""
    s = arc_lengths(points)
    if s[-1] <= 0:
        return np.repeat(points[:1], count, axis=0)
    targets = np.linspace(0.0, s[-1], count)
    return np.stack([np.interp(targets, s, points[:, 0]), np.interp(targets, s, points[:, 1])], axis=1)


def circular_slice(points: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Points ``start, start + 1, ..., stop`` of a closed outline, wrapping around."""
    n = len(points)
    return points[(start + np.arange((stop - start) % n + 1)) % n]


def smooth_polyline(points: np.ndarray, factor: int = 4) -> np.ndarray:
    """A Catmull-Rom curve through an open polyline, ``factor`` points per segment (the
    original points are kept, the ends too)."""
    p = np.asarray(points, np.float64)
    if len(p) < 3 or factor <= 1:
        return p
    ext = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    t = (np.arange(factor) / factor)[:, None, None]
    p0, p1, p2, p3 = ext[:-3][None], ext[1:-2][None], ext[2:-1][None], ext[3:][None]
    curve = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                   + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3)
    out = curve.transpose(1, 0, 2).reshape(-1, 2)
    return np.concatenate([out, p[-1:]])


def outward_normals(curve: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Unit normals of an open curve, on the side away from ``centre`` (the region it bounds)."""
    tangent = np.gradient(curve, axis=0)
    tangent /= np.maximum(np.hypot(*tangent.T), 1e-9)[:, None]
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    if np.mean(np.sum(normal * (curve - centre), axis=1)) < 0:
        normal = -normal
    return normal


def polygon_area(points: np.ndarray) -> float:
    """Area enclosed by a closed polygon (shoelace; the last point joins the first)."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def fill_polygon(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) bool: pixels whose centre lies inside a closed polygon (non-zero winding, so
    a curve that crosses itself leaves no hole)."""
    p = np.asarray(points, np.float64)
    x0, y0 = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    rows = np.arange(height) + 0.5
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    first = np.clip(np.ceil(lo - 0.5), 0, height).astype(int)  # first row centre >= lo
    last = np.clip(np.ceil(hi - 0.5), 0, height).astype(int)  # rows below hi: [first, last)
    counts = np.maximum(last - first, 0)
    if counts.sum() == 0:
        return np.zeros((height, width), bool)
    edge = np.repeat(np.arange(len(p)), counts)
    offsets = np.cumsum(counts) - counts
    row = first[edge] + np.arange(int(counts.sum())) - offsets[edge]
    yc = rows[row]
    t = (yc - y0[edge]) / (y1[edge] - y0[edge])
    xc = x0[edge] + t * (x1[edge] - x0[edge])
    col = np.clip(np.ceil(xc - 0.5), 0, width).astype(int)  # first pixel centre right of the crossing
    direction = np.where(y1[edge] > y0[edge], 1, -1)
    delta = np.zeros((height, width + 1), np.int32)
    np.add.at(delta, (row, col), direction)
    return np.cumsum(delta, axis=1)[:, :width] != 0
