"""Is a label map a plausible heart? The topology rules of an apical view.

- each structure (LV cavity, myocardium, atrium) is present and in one piece;
- the cavity is enclosed: it touches the myocardium or the atrium (at the mitral opening),
  hardly ever the background;
- the atrium hangs from the ventricle (it touches the cavity or the myocardium) and lies
  below the cavity's centre (away from the transducer at the top).

Used to check deformed masks (:mod:`engine.data.deform`) and by the studio's topology check.
Small tolerances absorb what resampling does to a border pixel here and there.
"""

from __future__ import annotations

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


def topology_problems(labels: np.ndarray) -> list[str]:
    """Plain-language problems of a (H, W) label map (empty when it is a plausible heart).

    Stray pixels (pieces of a class under ``PIECE_SHARE`` of its largest piece, as resampling
    leaves along borders) do not count; the other rules are checked on the largest piece of
    each class.
    """
    labels = np.asarray(labels)
    problems = []
    for label, name in NAMES.items():
        region = labels == label
        if not region.any():
            problems.append(f"no {name}")
            continue
        pieces, count = ndimage.label(region, FOUR)
        if count > 1:
            sizes = np.sort(np.bincount(pieces.ravel())[1:])[::-1]
            real = int((sizes >= PIECE_SHARE * sizes[0]).sum())
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
