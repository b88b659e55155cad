"""Corresponding landmarks of one apical label map, the shape model's raw material.

From a (H, W) label map, :func:`find_landmarks` returns a :class:`Landmarks`:

- ``endo`` (K, 2): the LV cavity's outline from one mitral annulus point, through the apex,
  to the other, resampled by arc length with the apex as the middle point (K = 2h + 1; the
  first point is the annulus on the image's left when the apex is up);
- ``thickness`` (K,): the myocardium's thickness along the endocardium's outward normals;
- ``atrium`` (M, 2): the atrium's outline from near the first annulus point around its far
  side to near the second, resampled by arc length.

The annulus points are where the cavity, the myocardium and the atrium meet: the two ends of
the stretch of the cavity's outline that touches the atrium (the mitral opening). The apex is
the point of the cavity's outline farthest from the middle of the opening. Coordinates are
fractions of the image width (x) and height (y); thickness is a fraction of sqrt(H * W), so
landmarks of any resolution compare. Masks whose landmarks cannot be found raise
:class:`LandmarkError` with the reason, one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import CardiganError
from ..labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from ..mask_tools import keep_largest
from .curves import circular_slice, fill_polygon, outward_normals, region_outline, resample

ENDO_HALF = 12  # endocardial points on each side of the apex
ENDO_POINTS = 2 * ENDO_HALF + 1
ATRIUM_POINTS = 15
MIN_PIXELS = 30  # smaller structures (at any size) are not measured


class LandmarkError(CardiganError):
    """A label map whose landmarks cannot be found (a structure missing, no mitral opening)."""


@dataclass(frozen=True)
class Landmarks:
    endo: np.ndarray  # (K, 2) x, y as fractions of width and height
    thickness: np.ndarray  # (K,) fraction of sqrt(H * W)
    atrium: np.ndarray  # (M, 2)

    def vector(self) -> np.ndarray:
        """Everything as one flat vector: endo x, y pairs, thickness, atrium x, y pairs."""
        return np.concatenate([self.endo.ravel(), self.thickness, self.atrium.ravel()])

    @classmethod
    def from_vector(cls, v: np.ndarray) -> "Landmarks":
        k2 = 2 * ENDO_POINTS
        return cls(v[:k2].reshape(-1, 2), v[k2:k2 + ENDO_POINTS], v[k2 + ENDO_POINTS:].reshape(-1, 2))


VECTOR_LENGTH = 3 * ENDO_POINTS + 2 * ATRIUM_POINTS


def _longest_run(flags: np.ndarray) -> tuple[int, int] | None:
    """(first, last) index of the longest circular run of True in ``flags``, or None."""
    if not flags.any():
        return None
    if flags.all():
        return 0, len(flags) - 1
    shift = int(np.argmin(flags))  # start the scan at a False so no run wraps
    rolled = np.roll(flags, -shift)
    best, start, best_span = None, None, 0
    for i, flag in enumerate(np.append(rolled, False)):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best_span:
                best, best_span = (start, i - 1), i - start
            start = None
    return ((best[0] + shift) % len(flags), (best[1] + shift) % len(flags))


def _thickness(endo: np.ndarray, normals: np.ndarray, wall: np.ndarray, reach: float) -> np.ndarray:
    """Distance along each normal from the endocardium to where ``wall`` (cavity + myocardium)
    ends, in pixels."""
    field = ndimage.gaussian_filter(wall.astype(np.float32), 0.5)
    steps = np.arange(0.0, reach, 0.25)
    xs = endo[:, :1] + normals[:, :1] * steps[None, :]
    ys = endo[:, 1:] + normals[:, 1:] * steps[None, :]
    values = ndimage.map_coordinates(field, [ys - 0.5, xs - 0.5], order=1, cval=0.0)
    outside = values < 0.5
    first = np.where(outside.any(axis=1), np.argmax(outside, axis=1), steps.size - 1)
    return steps[first]


def find_landmarks(labels: np.ndarray) -> Landmarks:
    """The landmarks of one (H, W) label map; LandmarkError when they cannot be found."""
    labels = keep_largest(np.asarray(labels, np.uint8))
    height, width = labels.shape
    size = float(np.sqrt(height * width))
    cavity, myo, atrium = labels == LV_CAVITY, labels == MYOCARDIUM, labels == LEFT_ATRIUM
    for region, name in ((cavity, "LV cavity"), (myo, "myocardium"), (atrium, "left atrium")):
        if region.sum() < MIN_PIXELS * (size / 256.0) ** 2:
            raise LandmarkError(f"no {name} (or too small to measure)")
    cavity = ndimage.binary_fill_holes(cavity)
    outline = region_outline(cavity)
    # the mitral opening: the stretch of the cavity's outline next to the atrium, not the wall
    to_atrium = ndimage.distance_transform_edt(~atrium)
    to_myo = ndimage.distance_transform_edt(~myo)
    at = [outline[:, 1] - 0.5, outline[:, 0] - 0.5]
    d_atrium = ndimage.map_coordinates(to_atrium, at, order=1, mode="nearest")
    d_myo = ndimage.map_coordinates(to_myo, at, order=1, mode="nearest")
    run = _longest_run((d_atrium < 2.0) & (d_atrium < d_myo))
    if run is None or (run[1] - run[0]) % len(outline) < 2:
        raise LandmarkError("the LV cavity does not open onto the left atrium")
    first, last = run
    mid = 0.5 * (outline[first] + outline[last])
    # the rest of the outline, from one annulus point through the apex to the other
    wall_side = circular_slice(outline, last, first)
    apex_at = int(np.argmax(np.hypot(*(wall_side - mid).T)))
    if apex_at < 2 or apex_at > len(wall_side) - 3:
        raise LandmarkError("the LV cavity has no apex away from the mitral opening")
    axis = wall_side[apex_at] - mid
    start = wall_side[0] - mid
    if axis[0] * start[1] - axis[1] * start[0] > 0:  # begin on the left of the apex-up axis
        wall_side, apex_at = wall_side[::-1], len(wall_side) - 1 - apex_at
    endo = np.concatenate([resample(wall_side[:apex_at + 1], ENDO_HALF + 1),
                           resample(wall_side[apex_at:], ENDO_HALF + 1)[1:]])
    closed = fill_polygon(endo, height, width)
    if closed.sum() < 0.8 * cavity.sum():
        raise LandmarkError("the LV cavity's outline is not star-shaped from its centre")
    centre = np.array([np.nonzero(cavity)[1].mean() + 0.5, np.nonzero(cavity)[0].mean() + 0.5])
    normals = outward_normals(endo, centre)
    thick = _thickness(endo, normals, cavity | myo, 0.3 * size)
    thick = np.convolve(np.pad(thick, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    # the atrium from near one annulus point around its far side to near the other
    ring = region_outline(ndimage.binary_fill_holes(atrium))
    near_a = int(np.argmin(np.hypot(*(ring - endo[0]).T)))
    near_b = int(np.argmin(np.hypot(*(ring - endo[-1]).T)))
    if near_a == near_b:
        raise LandmarkError("the left atrium does not span the mitral opening")
    one, other = circular_slice(ring, near_a, near_b), circular_slice(ring, near_b, near_a)[::-1]
    far = one if np.hypot(*(one - mid).T).mean() >= np.hypot(*(other - mid).T).mean() else other
    atrium_pts = resample(far, ATRIUM_POINTS)
    scale = np.array([width, height], np.float64)
    return Landmarks(endo / scale, np.maximum(thick, 1.0) / size, atrium_pts / scale)
