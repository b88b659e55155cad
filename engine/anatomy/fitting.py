"""Fitting the shape model to label maps: the heart nearest some masks.

For each view present, the landmarks of its masks (:mod:`engine.anatomy.landmarks`) give the
view's pose (the ED endocardium aligned onto the model's mean, as the model defines poses; the
ES one onto the mean ES when only ES is there) and, normalised by it, the shape numbers they
cover. The shape coefficients are the most likely ones given those numbers (a Gaussian prior
of unit variance per mode, the variance the kept modes leave out as noise), so any subset of
views and phases can be fitted; the pose of a missing view is its most likely value given the
views present. Masks drawn in another fan than their view's median one are fitted as the
heart they show there: their landmarks are taken back to the median fan first
(:func:`engine.anatomy.placement.unplaced`), so a heart fitted to masks in a tilted or
shallow fan is the heart fitted to the same heart's masks in the median fan.

:func:`fit_mask` fits one label map whose view may be unknown (the studio's Fit to mask): it
tries each view, keeps the one whose drawn heart overlaps the map best and says how well.
"""

from __future__ import annotations

import numpy as np

from .alignment import fit_pose, normalise
from .heart import Heart
from .landmarks import VECTOR_LENGTH, Landmarks, find_landmarks
from .model_building import KEYS, PHASES, VIEWS
from .placement import unplaced


def fit_heart(model, masks: dict, fans: dict | None = None) -> Heart:
    """The heart of ``model`` nearest ``masks`` ({(view, phase): labels}), each drawn in its
    fan in ``fans`` ({(view, phase): Fan}; a mask without one: its view's median fan);
    LandmarkError when a mask's landmarks cannot be found, ValueError when no mask is keyed
    by a known view."""
    fans = fans or {}
    return fit_landmarks(model, {key: unplaced(find_landmarks(labels), fans.get(key), key[0])
                                 for key, labels in masks.items() if key[0] in VIEWS and key[1] in PHASES})


def fit_landmarks(model, landmarks: dict) -> Heart:
    """The heart of ``model`` nearest some masks' landmarks ({(view, phase): Landmarks}, as
    :func:`engine.anatomy.landmarks.find_landmarks` gives them); ValueError when none is
    keyed by a known view."""
    x = np.full(model.mean.shape, np.nan)
    known = np.full(model.pose_mean.shape, np.nan)
    for i, view in enumerate(VIEWS):
        marks = {p: landmarks[(view, p)] for p in PHASES if (view, p) in landmarks}
        if not marks:
            continue
        if "ED" in marks:  # the pose as the model defines it: ED endocardium onto the mean
            pose = fit_pose(model.mean_endo[view], marks["ED"].endo)
        else:
            at = KEYS.index((view, "ES")) * VECTOR_LENGTH
            pose = fit_pose(Landmarks.from_vector(model.mean[at:at + VECTOR_LENGTH]).endo, marks["ES"].endo)
        known[4 * i:4 * i + 4] = pose
        for p, m in marks.items():
            at = KEYS.index((view, p)) * VECTOR_LENGTH
            x[at:at + VECTOR_LENGTH] = Landmarks(normalise(m.endo, pose), m.thickness / np.exp(pose[2]),
                                                 normalise(m.atrium, pose)).vector()
    if np.isnan(known).all():
        raise ValueError("fit needs at least one mask keyed (view, phase) with view 2CH or 4CH")
    have = ~np.isnan(x)
    a = model.modes[:, have]
    noise = max(float(model.stats["noise"]), 1e-8)
    b = np.linalg.solve(a @ a.T / noise + np.eye(model.shapes), a @ (x[have] - model.mean[have]) / noise)
    # the pose around its prediction from the shape; missing views from the views present
    cov = model.pose_chol @ model.pose_chol.T
    k, u = ~np.isnan(known), np.isnan(known)
    residual = np.where(k, known - model.pose_mean - b @ model.pose_from_shape, 0.0)
    residual[u] = cov[np.ix_(u, k)] @ np.linalg.solve(cov[np.ix_(k, k)], residual[k])
    z_pose = np.linalg.solve(model.pose_chol, residual)
    return Heart.from_latent(np.concatenate([b, z_pose]), model.shapes, model.fingerprint)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """The mean Dice of the LV cavity, myocardium and atrium of two label maps (0 to 1; a
    structure absent from both counts as a match)."""
    from ..evaluation.metrics import dice_per_class

    return dice_per_class(a, b)["mean"]


def fit_mask(model, labels: np.ndarray, views=VIEWS, fan=None, phase: str = "ED") -> tuple[Heart, str, float]:
    """(heart, view, overlap) for one square label map taken as ``phase`` (end-diastole
    unless told "ES", as the ES key frame is): of the hearts
    nearest it in each of ``views``, the one whose mask (drawn at the map's size, inside
    ``fan`` or the view's default fan) overlaps it best (:func:`overlap`). Hearts follow
    their fan (:mod:`engine.anatomy.placement`), so the map's landmarks are taken back from
    ``fan`` to the view's median fan before fitting. LandmarkError (one line) when the map's
    landmarks cannot be found, ValueError for a map that is not square."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[0] != labels.shape[1]:
        raise ValueError(f"a heart can be fitted to a square mask only, this one is "
                         f"{' x '.join(map(str, labels.shape))}")
    if phase not in PHASES:
        raise ValueError(f"a heart can be fitted at {' or '.join(PHASES)}, not {phase!r}")
    marks = find_landmarks(labels)
    best = None
    for view in views:
        heart = fit_landmarks(model, {(view, phase): unplaced(marks, fan, view)})
        score = overlap(model.mask(heart, view, phase, labels.shape[0], fan=fan), labels)
        if best is None or score > best[2]:
            best = (heart, view, score)
    if best is None:
        raise ValueError(f"fit needs a view among {VIEWS}")
    return best
