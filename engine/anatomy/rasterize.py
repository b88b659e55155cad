"""Landmarks -> a label map: cavity, wall and atrium drawn at any size, checked against the fan.

:func:`draw_labels` fills, in this order, the atrium (the polygon from one annulus point
around the atrium's far side to the other), the myocardium (every pixel within the local wall
thickness of the endocardium, on the cavity's side of the mitral line, so the wall encloses
the cavity whatever the shape) and the LV cavity (the endocardium closed by the mitral line).
Curves pass smoothly through the landmarks (Catmull-Rom). :func:`fitted_labels` checks the
heart against the fan, as the experts' CAMUS masks lie in theirs, and draws it as they do: on
past the sector's sides where it runs out of them (near the apex, the wall of 92 % of real
frames does: 5 % of its pixels at the median, 20 % at the 95th percentile, 42 % at most; the
cavity 0.3 %, 0.8 % and 8.5 %), so a heart the fan cuts shows as a real one does, running into
the fan's edge; beyond the fan's arc it is cleared, as the experts' masks end at the picture's
bottom edge, where the arc of a CAMUS fan lies. A model taking the fan clears every label
outside it at its input (:func:`engine.fan.fan_classes`), so what lies there moves at most a
rim of pixels along the fan's edge; a segmentation dataset's masks keep it, as CAMUS's do. A
heart fits when its drawing has no topology problem
(:func:`engine.anatomy.topology.topology_problems`: a cavity enclosed, each structure in one
piece), no more of its cavity and wall lies outside the fan than of nearly every real heart
(5 % and 40 %: a frame is held to this in each of a patient's four, so the bounds sit near the
real extremes, not their 99th percentiles) and most of its atrium lies inside; when it does
not, it is shrunk a little toward the middle of the fan until it does. Until this rule, hearts
were cleared outside the fan and shrunk until the cleared drawing was whole, which kept out
every heart the sector cuts and the larger hearts with them (``docs/realism.md``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ..fan import Fan, fan_mask, pixel_depth
from ..labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from .curves import fill_polygon, polygon_area, smooth_polyline
from .landmarks import Landmarks
from .topology import topology_problems

FOUR = ndimage.generate_binary_structure(2, 1)
MIN_WALL_PIXELS = 1.5  # the wall is never thinner, so the cavity stays enclosed at any size
MIN_ATRIUM_KEPT = 0.6  # share of the atrium that must lie inside the fan and the picture
MAX_CAVITY_OUTSIDE = 0.05  # share of the LV cavity, and of the myocardium, that may lie outside
MAX_WALL_OUTSIDE = 0.40  # the fan: under the most of the CAMUS train split's masks (8.5 %, 42 %)
FAN_MIDDLE = 0.55  # hearts that do not fit shrink toward this depth on the fan's axis


def _side(a: np.ndarray, b: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The sign of each point (xs, ys) against the line through a and b."""
    return np.sign((b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0]))


def _wall(cavity: np.ndarray, curve: np.ndarray, thick: np.ndarray, base: tuple) -> np.ndarray:
    """Pixels outside ``cavity`` within the local thickness of the endocardial ``curve``,
    on the cavity's side of the mitral line through ``base`` (the two annulus points)."""
    height, width = cavity.shape
    distance, (rows, cols) = ndimage.distance_transform_edt(~cavity, return_indices=True)
    edge = cavity & ~ndimage.binary_erosion(cavity, border_value=0)
    er, ec = np.nonzero(edge)
    if er.size == 0:
        return np.zeros_like(cavity)
    centres = np.stack([ec + 0.5, er + 0.5], axis=1)
    a, b = np.asarray(base[0]), np.asarray(base[1])
    mitral = a + np.linspace(0.0, 1.0, 24)[:, None] * (b - a)
    reach = np.concatenate([thick, np.zeros(len(mitral))])
    points = np.concatenate([curve, mitral])
    nearest = np.argmin(((centres[:, None, :] - points[None, :, :]) ** 2).sum(-1), axis=1)
    local = np.zeros(cavity.shape, np.float32)
    local[er, ec] = reach[nearest]
    wall = (distance <= local[rows, cols] + 0.5) & ~cavity
    # keep the cavity's side of the mitral line (the wall ends flush with the annulus)
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    apex = curve[len(curve) // 2]
    return wall & (_side(a, b, xs, ys) == _side(a, b, *apex))


def _close_corners(labels: np.ndarray, apex: np.ndarray, base: tuple) -> None:
    """Give the background pixels that touch the cavity (the corners where the wall, cut
    flush with the mitral line, meets the atrium: a pixel or two at any size, many of the
    cavity's border at a small one) to the wall on the cavity's side of the mitral line and
    to the atrium on the other."""
    cavity = labels == LV_CAVITY
    gaps = ndimage.binary_dilation(cavity, FOUR) & (labels == BACKGROUND)
    if not gaps.any():
        return
    rows, cols = np.nonzero(gaps)
    a, b = np.asarray(base[0]), np.asarray(base[1])
    wall_side = _side(a, b, cols + 0.5, rows + 0.5) == _side(a, b, *apex)
    labels[rows, cols] = np.where(wall_side, MYOCARDIUM, LEFT_ATRIUM)


def draw_labels(marks: Landmarks, height: int, width: int) -> np.ndarray:
    """The (H, W) uint8 label map of one set of landmarks (no fan, no checks)."""
    scale = np.array([width, height], np.float64)
    size = float(np.sqrt(height * width))
    endo = marks.endo * scale
    curve = smooth_polyline(endo, 4)
    thick = np.maximum(np.interp(np.linspace(0, len(endo) - 1, len(curve)), np.arange(len(endo)),
                                 marks.thickness * size), MIN_WALL_PIXELS)
    atrium = smooth_polyline(marks.atrium * scale, 3)
    labels = np.full((height, width), BACKGROUND, np.uint8)
    labels[fill_polygon(np.concatenate([endo[-1:], atrium[::-1], endo[:1]]), height, width)] = LEFT_ATRIUM
    cavity = fill_polygon(curve, height, width)
    labels[_wall(cavity, curve, thick, (endo[0], endo[-1]))] = MYOCARDIUM
    labels[cavity] = LV_CAVITY
    _close_corners(labels, curve[len(curve) // 2], (endo[0], endo[-1]))
    return labels


def fit_problems(marks: Landmarks, labels: np.ndarray, inside: np.ndarray) -> list[str]:
    """Why a drawn heart does not fit: topology problems of ``labels`` (drawn within the
    picture), more of its cavity or wall outside ``inside`` (the fan, bool) than a real
    heart has there, or too much atrium outside it."""
    problems = topology_problems(labels)
    height, width = labels.shape
    for label, most, name in ((LV_CAVITY, MAX_CAVITY_OUTSIDE, "LV cavity"), (MYOCARDIUM, MAX_WALL_OUTSIDE, "myocardium")):
        drawn = labels == label
        if drawn.any() and (drawn & ~inside).sum() > most * drawn.sum():
            problems.append(f"more of the {name} lies outside the fan than in real hearts")
    atrium_area = polygon_area(np.concatenate([marks.endo[-1:], marks.atrium[::-1], marks.endo[:1]])
                               * np.array([width, height]))
    kept = float(((labels == LEFT_ATRIUM) & inside).sum())
    if atrium_area > 0 and kept < MIN_ATRIUM_KEPT * atrium_area:
        problems.append("the left atrium is mostly outside the fan")
    return problems


def shrink(marks: Landmarks, factor: float, towards: tuple[float, float] = (0.5, FAN_MIDDLE)) -> Landmarks:
    """The landmarks scaled by ``factor`` about ``towards`` (x, y fractions of the picture)."""
    c = np.asarray(towards)
    return Landmarks(c + (marks.endo - c) * factor, marks.thickness * factor, c + (marks.atrium - c) * factor)


def fan_middle(fan: Fan | None) -> tuple[float, float]:
    """The point on the fan's axis (its centre line, turned with its tilt) that hearts which
    do not fit shrink toward."""
    if fan is None:
        return (0.5, FAN_MIDDLE)
    tilt = math.radians(fan.tilt)
    return (fan.apex_x + FAN_MIDDLE * fan.depth * math.sin(tilt), fan.apex_y + FAN_MIDDLE * fan.depth * math.cos(tilt))


def cleared_beyond_arc(labels: np.ndarray, fan: Fan | None) -> np.ndarray:
    """``labels`` with background beyond the arc of ``fan`` (deeper than its depth), the
    sides left as drawn; a new uint8 array."""
    labels = np.array(labels, dtype=np.uint8)
    if fan is not None:
        labels[pixel_depth(fan, *labels.shape) > fan.depth * labels.shape[0]] = BACKGROUND
    return labels


def fitted_labels(marks: Landmarks, height: int, width: int, fan: Fan | None,
                  tries: int = 12, step: float = 0.95) -> tuple[np.ndarray, bool]:
    """(labels, fits): the heart drawn (within the picture, on past the fan's sides as an
    expert draws it, cleared beyond its arc), shrunk toward the middle of the fan up to ``tries`` times until it fits
    ``fan`` (:func:`fit_problems`); ``fits`` False when it never did (the last attempt is
    returned)."""
    inside = fan_mask(fan, height, width) if fan is not None else np.ones((height, width), bool)
    middle = fan_middle(fan)
    for attempt in range(tries + 1):
        labels = cleared_beyond_arc(draw_labels(marks, height, width), fan)
        if not fit_problems(marks, labels, inside):
            return labels, True
        marks = shrink(marks, step, middle)
    return labels, False
