"""The anatomy generator's parameter distributions: one table, and where its numbers came from.

Each parameter of :class:`engine.anatomy.parametric.PatientAnatomy` that is drawn per patient has a
uniform range ``(low, high)`` here; fields are described on the dataclass. The ranges
marked "fitted" were fitted to real expert masks by ``scripts/fit_anatomy.py``, which
matches the 5th, 50th and 95th percentiles of shape descriptors
(:mod:`engine.anatomy.descriptors`) of generated masks to those of the real ones; the others
shape details that those descriptors do not see and keep hand-set values.

Source of the fit: CAMUS, 2023 release, official train split (400 patients, 1,600 masks:
2CH and 4CH at ED and ES), from a public 224 x 224 export (frames resized to a square, so
the native aspect ratio is lost), prepared at 256 x 256. Only these summary numbers are
kept; no image or mask is. The per-descriptor agreement is in ``docs/anatomy_fit.md``.
"""

from __future__ import annotations

SOURCE = "fitted to 1600 real masks (train split) by scripts/fit_anatomy.py"

PARAMETERS: dict[str, tuple[float, float]] = {
    # fitted
    "lv_length": (0.4263, 0.6785),
    "lv_width": (0.3064, 0.6002),
    "wall_thickness": (0.0479, 0.1101),
    "tilt": (-3.79, 17.0),
    "apex_x": (0.4594, 0.4789),
    "apex_y": (0.1227, 0.3131),
    "atrium_size": (0.3278, 0.5574),
    "atrium_width": (0.8411, 1.1545),
    "long_shortening": (0.1392, 0.2567),
    "radial_shortening": (0.0, 0.4376),
    "wall_thickening": (0.0019, 0.323),
    "atrium_growth": (0.0, 0.238),
    # hand-set
    "widest_at": (0.28, 0.42),
    "apex_sharpness": (1.7, 2.3),
    "mitral_ratio": (0.68, 0.82),
    "apex_wall_ratio": (0.65, 0.9),
    "bend": (-0.04, 0.04),
    "septal_bulge": (-0.06, 0.08),
    "atrium_tilt": (-14.0, 14.0),
}

FITTED = ("lv_length", "lv_width", "wall_thickness", "tilt", "apex_x", "apex_y", "atrium_size",
          "atrium_width", "long_shortening", "radial_shortening", "wall_thickening", "atrium_growth")

# What the fit aimed at: the real masks' descriptors (engine/anatomy/descriptors.py).
REAL_DESCRIPTORS: dict[str, tuple[float, float, float]] = {  # 5th, 50th, 95th percentile
    "lv_center_y": (0.3709, 0.4584, 0.5826),
    "lv_center_x": (0.4652, 0.5257, 0.5766),
    "lv_area": (0.0414, 0.08533, 0.1694),
    "lv_length": (0.3523, 0.4757, 0.6515),
    "lv_elongation": (1.732, 2.233, 3.051),
    "lv_tilt": (-2.37, 6.967, 18.69),
    "myo_lv_area": (0.6486, 1.101, 2.072),
    "wall_thickness": (0.04631, 0.06804, 0.0986),
    "la_lv_area": (0.1688, 0.5789, 1.514),
    "la_bottom": (0.7852, 0.9688, 1),
    "la_center_y": (0.6685, 0.8074, 0.9284),
    "es_ed_lv_area": (0.4869, 0.6332, 0.8072),
    "es_ed_la_area": (0.9861, 1.379, 2.257),
    "es_ed_myo_area": (0.839, 0.9677, 1.117),
}
