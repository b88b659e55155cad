"""Pose and Procrustes alignment of endocardial landmarks.

A pose is four numbers ``(x, y, log_scale, tilt)``: where the heart sits (the centroid of its
end-diastolic endocardial landmarks, fractions of the picture), how big it is (the log of the
scale that maps the model's mean endocardium, of unit RMS radius, onto it) and how its LV
long axis is turned (degrees from vertical, positive when the base swings to the picture's
right, as :mod:`engine.anatomy.descriptors` measures ``lv_tilt``). A shape is normalised by
its pose: ``normalise(points, pose)`` undoes the pose, ``place(points, pose)`` applies it.
"""

from __future__ import annotations

import math

import numpy as np

POSE_FIELDS = ("x", "y", "log_scale", "tilt")


def _rotation(tilt: float) -> np.ndarray:
    # the model's long axis points straight down (apex to base); tilting it by +t degrees
    # swings the base toward +x, a rotation by -t in picture coordinates (y down)
    angle = -math.radians(tilt)
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def place(points: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Points of the normalised frame (N, 2) put into the picture by ``pose``."""
    x, y, log_scale, tilt = pose
    return math.exp(log_scale) * points @ _rotation(tilt).T + np.array([x, y])


def normalise(points: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Picture points (N, 2) brought back to the normalised frame (the inverse of :func:`place`)."""
    x, y, log_scale, tilt = pose
    return (points - np.array([x, y])) @ _rotation(tilt) / math.exp(log_scale)


def fit_pose(reference: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The pose that best maps ``reference`` (normalised frame) onto ``points`` (least
    squares over corresponding points: a similarity, Umeyama's solution in 2-D)."""
    ref_c, pts_c = reference - reference.mean(0), points - points.mean(0)
    norm = float((ref_c ** 2).sum())
    a = float((ref_c * pts_c).sum()) / norm
    b = float((ref_c[:, 0] * pts_c[:, 1] - ref_c[:, 1] * pts_c[:, 0]).sum()) / norm
    scale, angle = math.hypot(a, b), math.atan2(b, a)
    tilt = -math.degrees(angle)
    shift = points.mean(0) - scale * reference.mean(0) @ _rotation(tilt).T
    return np.array([shift[0], shift[1], math.log(max(scale, 1e-9)), tilt])


def canonical(endo: np.ndarray) -> np.ndarray:
    """An endocardium centred on its centroid, of unit RMS radius, with its long axis (from
    the middle of the annulus to the apex, the middle point) pointing straight up."""
    centred = endo - endo.mean(0)
    centred /= math.sqrt(float((centred ** 2).sum(1).mean()))
    axis = centred[len(centred) // 2] - 0.5 * (centred[0] + centred[-1])
    angle = math.atan2(axis[0], -axis[1])  # 0 when the apex is straight up; turn back by it
    c, s = math.cos(angle), -math.sin(angle)
    return centred @ np.array([[c, -s], [s, c]]).T


def procrustes(endos: np.ndarray, rounds: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Generalised Procrustes analysis of (N, K, 2) endocardia: (mean shape in canonical
    form, (N, 4) poses mapping it onto each)."""
    mean = canonical(endos[0])
    for _ in range(rounds):
        poses = np.array([fit_pose(mean, e) for e in endos])
        aligned = np.array([normalise(e, p) for e, p in zip(endos, poses)])
        new = canonical(aligned.mean(0))
        change, mean = float(np.abs(new - mean).max()), new
        if change < 1e-6:
            break
    return mean, np.array([fit_pose(mean, e) for e in endos])
