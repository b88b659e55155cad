"""Where a heart sits in a fan: hearts follow the probe's sector, not the picture's corners.

The shape model learned its hearts from CAMUS pictures, all taken in about the same sector:
the view's median fan (:func:`engine.fan.default_fan`), the model's *reference fan*. A heart
drawn in another fan is the same heart seen through that fan: the similarity that takes the
reference fan's apex, axis and depth onto the other fan's takes the heart's landmarks there
too (moved with the apex, turned about it with the axis, scaled with the depth, so a shallow
fan shows a smaller heart and a tilted one a tilted heart). The depth is the part of the
fan's axis the picture shows (:func:`visible_depth`): a fan whose arc lies below the
picture's bottom (the studio's depth slider beyond 1, a fan fitted to a scan cut off at the
bottom) shows no more of the scan than one that ends at the bottom, and its arc is not seen,
so the heart keeps the size it has there instead of growing out of the picture with an arc
nobody sees (the atrium was cut off: 25 % of it, on average, at a depth of 1.3). In the reference fan it is the
identity, so a heart drawn in the median fan is exactly where the model puts it. The fan's
opening and squash do not move the heart: one too wide for a narrow fan shrinks toward the
fan's middle until it fits (:mod:`engine.anatomy.rasterize`).

Masks drawn or recorded in another fan are taken back the same way before the model meets
them (:func:`unplaced`): fitting a heart to masks and building a model from a dataset see
every heart in its view's reference fan, whatever fan its masks were drawn in.

Coordinates are fractions of a square picture (x of its width, y of its height), as landmarks
and fans have them; angles are degrees from straight down, positive toward the picture's right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..fan import Fan, default_fan
from .landmarks import Landmarks


@dataclass(frozen=True)
class Placement:
    """p -> apex + scale * R(turn) (p - origin): the reference fan's apex ``origin`` onto
    the fan's ``apex``, turned by ``turn`` degrees and scaled by ``scale`` about it."""

    origin: tuple[float, float] = (0.0, 0.0)
    apex: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    turn: float = 0.0

    @property
    def identity(self) -> bool:
        return self.origin == self.apex and self.scale == 1.0 and self.turn == 0.0

    def _matrix(self) -> np.ndarray:
        # a direction at angle a from straight down, (sin a, cos a), goes to angle a + turn
        c, s = math.cos(math.radians(self.turn)), math.sin(math.radians(self.turn))
        return self.scale * np.array([[c, s], [-s, c]])

    def points(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) points (x, y) placed (returned as given by the identity)."""
        if self.identity:
            return points
        return (np.asarray(points, np.float64) - self.origin) @ self._matrix().T + self.apex

    def point(self, point: tuple[float, float]) -> tuple[float, float]:
        x, y = self.points(np.array([point], np.float64))[0]
        return float(x), float(y)

    def landmarks(self, marks: Landmarks) -> Landmarks:
        """``marks`` placed: the outlines moved, the wall's thickness scaled."""
        if self.identity:
            return marks
        return Landmarks(self.points(marks.endo), marks.thickness * self.scale, self.points(marks.atrium))

    def inverse(self) -> "Placement":
        """The placement that takes placed points back."""
        if self.identity:
            return self
        return Placement(self.apex, self.origin, 1.0 / self.scale, -self.turn)


def picture_edge(fan: Fan) -> float:
    """How far the fan's axis runs from the apex before it leaves the picture (through the
    bottom or a side)."""
    down, across = math.cos(math.radians(fan.tilt)), math.sin(math.radians(fan.tilt))
    edges = [(1.0 - fan.apex_y) / down] if down > 1e-9 else [math.inf]
    if abs(across) > 1e-9:
        edges.append(((1.0 if across > 0 else 0.0) - fan.apex_x) / across)
    return max(min(edges), 1e-6)


def visible_depth(fan: Fan, reference: Fan) -> float:
    """The depth of ``fan`` the picture shows: its depth, or the picture's edge along its axis
    where that comes first. The edge is measured as the reference fan sees it: its arc ends
    at the picture's bottom (a CAMUS picture is its scan's extent; the median fan's arc lies a
    tenth of a percent below it), so an edge counts as the arc of a fan as much deeper than
    the edge as the reference is, and every fan whose arc the picture shows keeps its depth."""
    return min(fan.depth, picture_edge(fan) * reference.depth / picture_edge(reference))


def placement(fan: Fan, reference: Fan) -> Placement:
    """The placement of hearts drawn in ``reference`` into ``fan`` (the identity when the
    two are one fan, or differ only in opening and squash), scaled by the two fans'
    :func:`visible_depth`."""
    origin, apex = (reference.apex_x, reference.apex_y), (fan.apex_x, fan.apex_y)
    return Placement(origin, apex, visible_depth(fan, reference) / reference.depth, fan.tilt - reference.tilt)


def view_placement(fan: Fan | None, view: str) -> Placement:
    """The placement of ``view``'s hearts from its reference fan (the view's median fan) into
    ``fan`` (the identity for None: a mask without a fan is taken as drawn in the median)."""
    return Placement() if fan is None else placement(fan, default_fan(view))


def unplaced(marks: Landmarks, fan: Fan | None, view: str) -> Landmarks:
    """The landmarks of a heart drawn in ``fan`` taken back to ``view``'s reference fan, where
    the model has its hearts (``marks`` as given for None)."""
    return view_placement(fan, view).inverse().landmarks(marks)
