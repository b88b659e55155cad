"""Is a label map a plausible heart? The topology rules of an apical view.

- each structure (LV cavity, myocardium, atrium) is present and in one piece;
- the cavity is enclosed: it touches the myocardium or the atrium (at the mitral opening),
  hardly ever the background;
- the atrium hangs from the ventricle (it touches the cavity or the myocardium) and lies
  below the cavity's centre (away from the transducer at the top).

Used to check deformed masks (:mod:`engine.data.deform`) and by the studio's topology check.
Small tolerances absorb what resampling does to a border pixel here and there.

:func:`pieces` reports every piece of every structure, with its size and where it is: a
stray piece the rules tolerate (under ``PIECE_SHARE`` of its structure) is still drawn by
the model, so the studio's check lists each one (:func:`stray_pieces`) for the user to look at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from ..mask_tools import keep_largest

LEAK_TOLERANCE = 0.02  # share of the cavity's border that may touch the background
PIECE_SHARE = 0.1  # a piece this large (against the largest) makes a structure "in pieces"
NAMES = {LV_CAVITY: "LV cavity", MYOCARDIUM: "myocardium", LEFT_ATRIUM: "left atrium"}
FOUR = ndimage.generate_binary_structure(2, 1)


def _border(region: np.ndarray) -> np.ndarray:
    """Pixels just outside ``region`` (4-neighbours)."""
    return ndimage.binary_dilation(region, FOUR) & ~region


@dataclass(frozen=True)
class Piece:
    """One 4-connected piece of a structure: its pixels and its bounding box (rows
    ``top:bottom``, columns ``left:right``, ends exclusive)."""

    label: int
    size: int
    top: int
    left: int
    bottom: int
    right: int
    largest: bool  # the structure's main piece (the others are stray)

    @property
    def name(self) -> str:
        return NAMES[self.label]

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y) of the box's centre, in pixels."""
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2

    def describe(self) -> str:
        """e.g. "stray LV cavity piece: 420 px, 30 x 14 at x 120-150, y 40-54"."""
        kind = f"the {self.name}" if self.largest else f"stray {self.name} piece"
        return (f"{kind}: {self.size} px, {self.right - self.left} \u00d7 {self.bottom - self.top} at "
                f"x {self.left}\u2013{self.right}, y {self.top}\u2013{self.bottom}")


def pieces(labels: np.ndarray) -> list[Piece]:
    """Every piece of the LV cavity, myocardium and atrium, each structure's largest first."""
    labels = np.asarray(labels)
    found = []
    for label in NAMES:
        parts, count = ndimage.label(labels == label, FOUR)
        if not count:
            continue
        sizes = np.bincount(parts.ravel())[1:]
        boxes = ndimage.find_objects(parts)
        for rank, index in enumerate(np.argsort(-sizes, kind="stable")):
            rows, cols = boxes[index]
            found.append(Piece(label, int(sizes[index]), rows.start, cols.start, rows.stop, cols.stop, rank == 0))
    return found


def stray_pieces(labels: np.ndarray) -> list[Piece]:
    """Every piece that is not its structure's largest, largest first, however small."""
    return sorted((p for p in pieces(labels) if not p.largest), key=lambda p: -p.size)


def topology_problems(labels: np.ndarray) -> list[str]:
    """Plain-language problems of a (H, W) label map (empty when it is a plausible heart).

    Stray pixels (pieces of a class under ``PIECE_SHARE`` of its largest piece, as resampling
    leaves along borders) do not count; the other rules are checked on the largest piece of
    each class.
    """
    labels = np.asarray(labels)
    problems = []
    found = pieces(labels)
    for label, name in NAMES.items():
        sizes = [p.size for p in found if p.label == label]  # largest first
        if not sizes:
            problems.append(f"no {name}")
            continue
        real = sum(size >= PIECE_SHARE * sizes[0] for size in sizes)
        if real > 1:
            problems.append(f"the {name} is in {real} pieces")
    labels = keep_largest(labels)
    cavity, atrium = labels == LV_CAVITY, labels == LEFT_ATRIUM
    if cavity.any():
        rim = labels[_border(cavity)]
        leak = float(np.mean(rim == BACKGROUND)) if rim.size else 0.0
        if leak > LEAK_TOLERANCE:
            problems.append(f"the LV cavity is not enclosed ({leak:.0%} of its border touches the background)")
    if atrium.any() and cavity.any():
        rim = labels[_border(atrium)]
        if not np.isin(rim, (LV_CAVITY, MYOCARDIUM)).any():
            problems.append("the left atrium floats away from the ventricle")
        if np.nonzero(atrium)[0].mean() <= np.nonzero(cavity)[0].mean():
            problems.append("the left atrium is not below the LV cavity")
    return problems
