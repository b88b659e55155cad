"""Anatomical label maps of apical echo views from a seeded random "patient" (the old generator).

Hearts for users come from the shape model (:mod:`engine.anatomy.shape_model`,
:mod:`engine.anatomy.patients`); this hand-built generator is kept for comparison:
scripts/shape_model_report.py (and tests that need a second, independent source of hearts).

A :class:`PatientAnatomy` holds the few numbers that make one heart different from another
(size, tilt, wall thickness, atrium size, position, contraction, contour wobble). From it,
:func:`make_mask` draws consistent 2CH/4CH x ED/ES label maps (values of
:mod:`engine.labels`): an elongated LV cavity with its apex toward the transducer at the top,
a myocardial band around it that is open at the mitral plane, and the left atrium below.

Geometry is built in a frame attached to the LV: ``u`` runs along the long axis from the
mitral plane (u = 0) to the endocardial apex (u = L), ``v`` across it (positive toward the
image right when the tilt is 0). Sizes are fractions of the image size, so one patient gives
the same picture at any resolution. The epicardial apex stays put between ED and ES (the
apex hardly moves in a real heart); the base moves toward it in systole.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .parametric_table import PARAMETERS
from ..labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM

VIEWS = ("2CH", "4CH")
PHASES = ("ED", "ES")
MAX_TILT = 25.0  # degrees


@dataclass(frozen=True)
class PatientAnatomy:
    """One synthetic heart. Lengths are fractions of the image size; angles in degrees.

    ``tilt`` is the angle of the LV long axis from the vertical; positive turns the base
    toward the image right (apex fixed). ``wobble`` holds small Fourier coefficients that
    make each contour individual; ``view_shift`` gives the two views slightly different
    tilts and positions, as two probe positions would.
    """

    seed: int
    lv_length: float  # ED cavity length, apex to mitral plane
    lv_width: float  # ED maximal cavity width / cavity length
    widest_at: float  # where the cavity is widest, fraction of the length from the base
    apex_sharpness: float  # exponent of the apical contour: < 2 more pointed, 2 elliptic
    mitral_ratio: float  # mitral opening width / maximal cavity width
    wall_thickness: float  # ED myocardial thickness (fraction of image size)
    apex_wall_ratio: float  # apical wall thickness / basal wall thickness
    tilt: float
    apex_x: float  # apex position (fraction of width; 0.5 is the centre)
    apex_y: float  # endocardial apex depth (fraction of height)
    bend: float  # banana-like curvature of the long axis (fraction of the length)
    septal_bulge: float  # > 0 widens the side toward the image left (septum in 4CH)
    atrium_size: float  # ED atrium length / ED cavity length
    atrium_width: float  # atrium width / atrium length
    atrium_tilt: float  # atrium axis relative to the LV axis (degrees)
    long_shortening: float  # ES cavity length = ED length x (1 - this)
    radial_shortening: float  # ES cavity width = ED width x (1 - this)
    wall_thickening: float  # ES wall thickness = ED thickness x (1 + this)
    atrium_growth: float  # ES atrium size = ED size x (1 + this)
    wobble: tuple[float, ...]  # 8 coefficients: 2 sides x 2 harmonics x (cos, sin)
    view_shift: tuple[float, ...]  # per view (2CH, 4CH): (tilt delta, x delta, length factor)

    def __post_init__(self) -> None:
        assert abs(self.tilt) <= MAX_TILT + 1e-9, self.tilt


def random_patient(seed: int, table: dict[str, tuple[float, float]] | None = None) -> PatientAnatomy:
    """A plausible adult heart drawn from ``seed`` (same seed, same heart).

    Each anatomical parameter is uniform over its range in ``table`` (default: the fitted
    :data:`engine.anatomy.parametric_table.PARAMETERS`).
    """
    table = PARAMETERS if table is None else table
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFF, 0xA7A]))
    drawn = {name: float(rng.uniform(*table[name])) for name in DRAWN}
    drawn["tilt"] = float(np.clip(drawn["tilt"], -MAX_TILT, MAX_TILT))
    u = rng.uniform
    return PatientAnatomy(
        seed=int(seed), **drawn,
        wobble=tuple(float(x) for x in rng.normal(0.0, 0.025, 8)),
        view_shift=tuple(float(x) for x in (u(-3, 3), u(-0.02, 0.0), u(0.97, 1.0),
                                            u(-3, 3), u(0.03, 0.07), u(0.95, 1.0))),
    )


DRAWN = ("lv_length", "lv_width", "widest_at", "apex_sharpness", "mitral_ratio", "wall_thickness",
         "apex_wall_ratio", "tilt", "apex_x", "apex_y", "bend", "septal_bulge", "atrium_size",
         "atrium_width", "atrium_tilt", "long_shortening", "radial_shortening", "wall_thickening",
         "atrium_growth")


@dataclass(frozen=True)
class _Shape:
    """The resolved geometry of one view and phase, in pixels."""

    apex: tuple[float, float]  # endocardial apex (x, y)
    axis: tuple[float, float]  # unit vector apex -> base (x, y)
    length: float
    half_width: float
    wall: float
    apex_wall: float
    atrium_length: float
    atrium_half_width: float
    atrium_tilt: float  # radians


def phase_fraction(phase: str | float) -> float:
    """``ED`` -> 0, ``ES`` -> 1, or a number in [0, 1] between them (the cardiac cycle from
    end-diastole to end-systole)."""
    if isinstance(phase, str):
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES} or a number in [0, 1], got {phase!r}")
        return float(PHASES.index(phase))
    value = float(phase)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"phase must be one of {PHASES} or a number in [0, 1], got {phase!r}")
    return value


def _resolve(patient: PatientAnatomy, view: str, phase: str | float, size: int) -> _Shape:
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    f = phase_fraction(phase)
    dtilt, dx, lfac = patient.view_shift[3 * VIEWS.index(view):3 * VIEWS.index(view) + 3]
    tilt = float(np.clip(patient.tilt + dtilt, -MAX_TILT, MAX_TILT))
    length = patient.lv_length * lfac * size
    half_width = 0.5 * patient.lv_width * patient.lv_length * size
    wall = patient.wall_thickness * size
    atrium_length = patient.atrium_size * patient.lv_length * size
    if view == "2CH":  # the 2CH atrium looks a little longer and narrower
        atrium_length *= 1.08
    atrium_half_width = 0.5 * patient.atrium_width * atrium_length * (0.9 if view == "2CH" else 1.0)
    apex_wall = wall * patient.apex_wall_ratio
    # the atrium is at least as wide as the (diastolic) mitral opening it hangs from
    mitral = patient.mitral_ratio * half_width * (1.0 + abs(patient.septal_bulge)) * 1.08
    atrium_half_width = max(atrium_half_width, mitral)
    # the epicardial apex is the fixed point; ED and ES share it
    epi_apex_y = patient.apex_y * size - apex_wall
    if f > 0:  # systole: the fraction f of the way from ED to ES
        length *= 1.0 - f * patient.long_shortening
        half_width *= 1.0 - f * patient.radial_shortening
        wall *= 1.0 + f * patient.wall_thickening
        apex_wall *= 1.0 + f * patient.wall_thickening
        atrium_length *= 1.0 + f * patient.atrium_growth
        atrium_half_width *= 1.0 + f * patient.atrium_growth
    rad = math.radians(tilt)
    axis = (math.sin(rad), math.cos(rad))
    apex_y = epi_apex_y + apex_wall * axis[1]
    apex_x = (patient.apex_x + dx) * size + apex_wall * axis[0]
    # the atrium may run off the bottom edge, as in real apical views, but not far
    bottom = apex_y + (length + atrium_length) * axis[1]
    if bottom > 1.25 * size:
        scale = max(0.5, (1.25 * size - apex_y - length * axis[1]) / (atrium_length * axis[1]))
        atrium_length *= scale
        atrium_half_width *= scale
    return _Shape((apex_x, apex_y), axis, length, half_width, wall, apex_wall,
                  atrium_length, atrium_half_width, math.radians(patient.atrium_tilt))


def bullet_half_width(u: np.ndarray, length: float, half_width: float, widest_at: float,
                      sharpness: float, mitral_ratio: float) -> np.ndarray:
    """Half-width of a bullet-shaped ventricle at distance ``u`` from its base (0 outside).

    Widest (``half_width``) at ``widest_at`` x ``length``; toward the apex a superellipse
    of exponent ``sharpness``; toward the base it narrows to ``mitral_ratio`` x the width.
    """
    c = widest_at * length
    apical = np.clip((u - c) / max(length - c, 1e-6), 0.0, 1.0)
    top = (1.0 - apical ** sharpness).clip(0.0) ** (1.0 / sharpness)
    basal = np.clip((c - u) / max(c, 1e-6), 0.0, 1.0)
    bottom = mitral_ratio + (1.0 - mitral_ratio) * np.sqrt((1.0 - basal ** 2).clip(0.0))
    hw = half_width * np.where(u >= c, top, bottom)
    return np.where((u >= 0) & (u <= length), hw, 0.0)


def _wobble(t: np.ndarray, coeffs: tuple[float, ...], left: np.ndarray) -> np.ndarray:
    """1 + two Fourier harmonics along the wall, with each side's own coefficients."""
    c, s = np.cos(np.pi * t), np.sin(np.pi * t)
    c2, s2 = 2.0 * c * c - 1.0, 2.0 * s * c
    a1, b1, a2, b2 = coeffs[0:4]
    right = 1.0 + a1 * c + b1 * s + a2 * c2 + b2 * s2
    a1, b1, a2, b2 = coeffs[4:8]
    return np.where(left, 1.0 + a1 * c + b1 * s + a2 * c2 + b2 * s2, right)


@lru_cache(maxsize=4)
def _pixel_centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + np.float32(0.5)
    ys.setflags(write=False)
    xs.setflags(write=False)
    return ys, xs


def make_mask(patient: PatientAnatomy, view: str, phase: str | float, size: int = 256) -> np.ndarray:
    """The (size, size) uint8 label map of ``patient`` in ``view`` (2CH/4CH) at ``phase``
    (ED, ES, or a fraction of the way from ED to ES)."""
    if size < 16:
        raise ValueError(f"size must be at least 16, got {size}")
    shape = _resolve(patient, view, phase, size)
    ys, xs = _pixel_centres(size)
    dx, dy = xs - shape.apex[0], ys - shape.apex[1]
    ax, ay = shape.axis
    along = dx * ax + dy * ay  # distance from the apex toward the base
    u = shape.length - along  # distance from the mitral plane toward the apex
    v = dx * ay - dy * ax  # across the axis, toward the image right at tilt 0
    t = np.clip(u / shape.length, 0.0, 1.0)
    v = v - patient.bend * shape.length * np.sin(math.pi * t)
    left = v < 0
    # the septal bulge widens the left side (the septum in 4CH) and narrows the right
    asym = np.where(left, 1.0 + patient.septal_bulge, 1.0 - 0.5 * patient.septal_bulge)
    wob = _wobble(t, patient.wobble, left) * asym
    absv = np.abs(v)

    hw_endo = bullet_half_width(u, shape.length, shape.half_width, patient.widest_at,
                                patient.apex_sharpness, patient.mitral_ratio) * wob
    cavity = (u >= 0) & (u <= shape.length) & (absv <= hw_endo)

    # epicardium: the endocardial contour pushed out by a wall that thins toward the apex
    wall_at = shape.wall + (shape.apex_wall - shape.wall) * t ** 2
    epi_length = shape.length + shape.apex_wall
    epi_mitral = (patient.mitral_ratio * shape.half_width + shape.wall) / (shape.half_width + shape.wall)
    hw_epi = bullet_half_width(u, epi_length, shape.half_width + shape.wall,
                               patient.widest_at * shape.length / epi_length,
                               patient.apex_sharpness, epi_mitral) * wob
    hw_epi = np.maximum(hw_epi, np.where(u <= shape.length, hw_endo + wall_at, 0.0))
    myocardium = (u >= 0) & (u <= epi_length) & (absv <= hw_epi) & ~cavity

    # atrium: an ellipse below the mitral plane, cut flat where it meets the ventricle
    cut = 0.55  # the plane cuts the ellipse this far (in semi-axes) above its centre
    a = shape.atrium_length / (1.0 + cut)
    b = shape.atrium_half_width
    ca, sa = math.cos(shape.atrium_tilt), math.sin(shape.atrium_tilt)
    uc, vc = u + a * cut, v  # relative to the atrium centre
    ua, va = uc * ca + vc * sa, -uc * sa + vc * ca
    atrium = ((ua / a) ** 2 + (va / b) ** 2 <= 1.0) & (u < 0)
    # a short neck under the whole mitral opening, so the cavity never touches background
    opening = patient.mitral_ratio * shape.half_width * wob
    atrium |= (u < 0) & (u > -0.15 * shape.atrium_length) & (absv <= opening + 0.5)

    labels = np.full((size, size), BACKGROUND, dtype=np.uint8)
    labels[atrium] = LEFT_ATRIUM
    labels[myocardium] = MYOCARDIUM
    labels[cavity] = LV_CAVITY
    return labels


# -- editing a heart as anatomy (the studio's anatomy panel) ---------------------------------
# (field, label, low, high): the ranges span the fitted table and beyond, for pathology
SLIDERS = (
    ("lv_length", "LV length", 0.30, 0.85),
    ("lv_width", "LV width (of its length)", 0.25, 0.95),
    ("tilt", "LV tilt (degrees)", -MAX_TILT, MAX_TILT),
    ("wall_thickness", "Wall thickness", 0.02, 0.16),
    ("atrium_size", "Atrium size (of the LV length)", 0.2, 1.1),
    ("atrium_width", "Atrium width (of its length)", 0.6, 1.5),
)
# common pathologies, as factors on a heart's own values
PATHOLOGIES: dict[str, dict[str, float]] = {
    "Dilated LV": {"lv_length": 1.18, "lv_width": 1.3, "wall_thickness": 0.8, "radial_shortening": 0.45,
                   "long_shortening": 0.5},
    "Hypertrophic wall": {"wall_thickness": 1.7, "lv_width": 0.8, "radial_shortening": 1.2},
    "Enlarged atrium": {"atrium_size": 1.6, "atrium_width": 1.15},
    "Small hyperdynamic LV": {"lv_length": 0.85, "lv_width": 0.85, "radial_shortening": 1.5,
                              "long_shortening": 1.4},
}


def with_changes(patient: PatientAnatomy, **values: float) -> PatientAnatomy:
    """``patient`` with some fields set (clipped to the sliders' ranges where they have one)."""
    limits = {name: (low, high) for name, _, low, high in SLIDERS}
    clipped = {name: float(np.clip(v, *limits[name])) if name in limits else float(v)
               for name, v in values.items()}
    return dataclasses.replace(patient, **clipped)


def with_pathology(patient: PatientAnatomy, name: str) -> PatientAnatomy:
    factors = PATHOLOGIES[name]
    values = {field: getattr(patient, field) * factor for field, factor in factors.items()}
    for field in ("radial_shortening", "long_shortening"):
        if field in values:
            values[field] = min(values[field], 0.6)
    return with_changes(patient, **values)


def anatomy_to_dict(patient: PatientAnatomy) -> dict:
    """A JSON-ready description of a heart (saved with masks made from it)."""
    return {name: list(v) if isinstance(v, tuple) else v for name, v in dataclasses.asdict(patient).items()}


def anatomy_from_dict(data: dict) -> PatientAnatomy:
    """The heart ``anatomy_to_dict`` described; ValueError for anything else."""
    try:
        fields = {f.name for f in dataclasses.fields(PatientAnatomy)}
        if not isinstance(data, dict) or set(data) != fields:
            raise ValueError("not an anatomy description")
        values = {k: tuple(float(x) for x in v) if k in ("wobble", "view_shift") else v for k, v in data.items()}
        values = {k: (int(v) if k == "seed" else v if isinstance(v, tuple) else float(v)) for k, v in values.items()}
        return PatientAnatomy(**values)
    except (TypeError, ValueError, AssertionError) as exc:
        raise ValueError(f"not an anatomy description ({exc})") from None
