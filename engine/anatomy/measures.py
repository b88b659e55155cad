"""Clinical numbers of a heart: ejection fraction by area and by Simpson's biplane method.

- :func:`cavity_pixels`: the LV cavity's area in pixels of a label map;
- :func:`ejection_fraction_by_area`: (A_ED - A_ES) / A_ED of the LV cavity in one view, in
  percent, from two label maps (or two areas);
- :func:`simpson_volume` / :func:`simpson_biplane_ef`: the method of discs on the cavity
  outlines of the two apical views (20 discs along the longer of the two long axes, each an
  ellipse whose diameters are the cavity's widths in 2CH and 4CH at that level).
- :func:`masks_biplane_ef`: :func:`simpson_biplane_ef` on the cavity outlines of four label
  maps (2CH and 4CH at ED and ES), traced as the shape model traces them
  (:func:`engine.anatomy.landmarks.find_landmarks`): the EF of a patient's masks.
"""

from __future__ import annotations

import math

import numpy as np

from ..labels import LV_CAVITY

DISCS = 20


def cavity_pixels(labels) -> float:
    """The number of LV cavity pixels of a label map."""
    return float(np.count_nonzero(np.asarray(labels) == LV_CAVITY))


def ejection_fraction_by_area(ed, es) -> float:
    """Area-based EF in percent from the ED and ES label maps of one view (or from the two
    cavity areas as numbers); NaN when the ED cavity is empty."""
    a_ed = cavity_pixels(ed) if np.ndim(ed) else float(ed)
    a_es = cavity_pixels(es) if np.ndim(es) else float(es)
    return 100.0 * (a_ed - a_es) / a_ed if a_ed > 0 else float("nan")


def disc_widths(endo: np.ndarray, discs: int = DISCS) -> tuple[np.ndarray, float]:
    """(widths, length) of a cavity outline (K, 2), annulus to apex to annulus (the mitral
    line closes it): its widths across the long axis at the middles of ``discs`` equal slices
    from the annulus to the apex, and the length of that axis."""
    base = 0.5 * (endo[0] + endo[-1])
    axis = endo[len(endo) // 2] - base
    length = float(np.hypot(*axis))
    if length <= 0:
        return np.zeros(discs), 0.0
    u_dir = axis / length
    v_dir = np.array([-u_dir[1], u_dir[0]])
    closed = np.concatenate([endo, endo[:1]])
    u, v = (closed - base) @ u_dir, (closed - base) @ v_dir
    widths = np.zeros(discs)
    for i, level in enumerate((np.arange(discs) + 0.5) / discs * length):
        a, b = u[:-1] - level, u[1:] - level
        cross = (a * b < 0) | (a == 0)
        if cross.any():
            t = a[cross] / (a[cross] - b[cross])
            vs = v[:-1][cross] + t * (v[1:][cross] - v[:-1][cross])
            widths[i] = vs.max() - vs.min()
    return widths, length


def simpson_volume(endo_2ch: np.ndarray, endo_4ch: np.ndarray, discs: int = DISCS) -> float:
    """Biplane method-of-discs volume (in the cube of the outlines' unit)."""
    w2, l2 = disc_widths(endo_2ch, discs)
    w4, l4 = disc_widths(endo_4ch, discs)
    return math.pi / 4.0 * float(np.sum(w2 * w4)) * max(l2, l4) / discs


def simpson_biplane_ef(ed_2ch: np.ndarray, es_2ch: np.ndarray, ed_4ch: np.ndarray, es_4ch: np.ndarray) -> float:
    """Simpson biplane EF in percent from the four cavity outlines (K, 2)."""
    v_ed, v_es = simpson_volume(ed_2ch, ed_4ch), simpson_volume(es_2ch, es_4ch)
    return 100.0 * (v_ed - v_es) / v_ed if v_ed > 0 else float("nan")


def masks_biplane_ef(masks) -> float | None:
    """Simpson biplane EF in percent of a patient's label maps ``masks`` {(view, phase): (H, W)}
    holding 2CH and 4CH at ED and ES, from the LV cavity outline of each (annulus, apex,
    annulus, in pixels); None when a map is missing or its cavity, myocardium or atrium cannot
    be traced (:class:`~engine.anatomy.landmarks.LandmarkError`)."""
    from .landmarks import LandmarkError, find_landmarks

    outlines = []
    for view in ("2CH", "4CH"):
        for phase in ("ED", "ES"):
            labels = masks.get((view, phase))
            if labels is None:
                return None
            try:
                endo = find_landmarks(labels).endo
            except LandmarkError:
                return None
            height, width = np.shape(labels)
            outlines.append(endo * (width, height))
    ef = simpson_biplane_ef(*outlines)
    return None if math.isnan(ef) else ef
