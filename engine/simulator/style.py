"""Per-patient look of a simulated echo: gain, tissue levels, right-heart size, dropout.

Real scans differ between patients and machines (overall gain, dynamic range, how well the
lateral wall shows, how much near-field clutter). One :class:`EchoStyle` is drawn per
patient seed so that all views and phases of one synthetic patient share a look.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EchoStyle:
    gain_db: float  # overall brightness offset
    dynamic_range_db: float  # span of the log compression
    tissue: float  # echogenicity of the tissue around the heart (myocardium = 1)
    tissue_contrast: float  # log-normal spread of the tissue's large-scale heterogeneity
    blood: float  # echogenicity of blood
    myocardium_texture: float  # log-normal spread of the myocardium's texture
    septum_boost: float  # the septum is brighter than the free walls
    pericardium: float
    valve: float
    valve_open: float  # 0 closed (a line across the annulus) .. 1 wide open
    right_heart_scale: float  # size of the right chambers relative to the left
    depth_falloff_db: float  # brightness lost at full depth after time-gain compensation
    near_field_db: float  # brightness lost at the top (near-field gain set low)
    haze: float  # strength of apical clutter
    specular: float  # 0: walls equally bright at any angle; 1: walls along the beam vanish
    dropout_db: float  # depth of the lateral-wall dropout
    dropout_line: float  # where (fraction of the sector, -1 left edge .. 1 right edge)
    edge_falloff_db: float  # dimming toward the sector edges
    noise: float  # electronic noise floor (echogenicity units)


# Per-patient ranges, each drawn uniformly (``log10_*`` ranges in decades). The ones in
# ``FITTED`` were fitted by ``scripts/fit_simulator.py`` so that images simulated from real
# expert masks match the real images' grey levels per region (background inside the sector,
# LV cavity, myocardium, atrium), their texture contrast and their near- and far-field
# brightness (5th, 50th and 95th percentiles over patients). Source of the fit:
STYLE_SOURCE = "fitted to 120 real images (train split) by scripts/fit_simulator.py"
STYLE_RANGES: dict[str, tuple[float, float]] = {
    "gain_db": (-5.7330, 7.2430),
    "dynamic_range_db": (49.2290, 59.5070),
    "log10_tissue": (-0.7635, -0.1440),
    # a quarter of the fitted (1.516, 1.778): large bright and dark blobs in the tissue matched
    # real grey-level spread but taught segmenters the wrong cue (downstream mean Dice on real
    # CAMUS 0.553 fitted, 0.610 at half, 0.672 at a quarter, 0.675 at none)
    "tissue_contrast": (0.3790, 0.4445),
    "log10_blood": (-1.5373, -1.5328),
    "myocardium_texture": (0.1953, 0.3606),
    "septum_boost": (1.1, 1.6),
    "pericardium": (3.0, 7.0),
    "valve": (0.5, 1.5),
    "valve_open": (0.0, 1.0),
    "right_heart_scale": (0.8, 1.1),
    "depth_falloff_db": (0.2392, 12.3746),
    "near_field_db": (11.1170, 16.3250),
    "log10_haze": (-2.4290, -2.0190),
    "specular": (0.35, 0.8),
    "dropout_db": (16.2094, 25.0000),
    "dropout_line": (0.35, 0.8),
    "edge_falloff_db": (5.4940, 18.6359),
    "log10_noise": (-4.6, -4.0),
}
FITTED = ("gain_db", "dynamic_range_db", "log10_tissue", "log10_blood",
          "myocardium_texture", "depth_falloff_db", "near_field_db", "log10_haze", "dropout_db",
          "edge_falloff_db")


def draw_style(rng: np.random.Generator, ranges: dict[str, tuple[float, float]] | None = None) -> EchoStyle:
    """One patient's look: every field uniform over its range in ``ranges`` (default
    :data:`STYLE_RANGES`); ``log10_*`` ranges give the field's decade."""
    ranges = STYLE_RANGES if ranges is None else ranges
    values = {}
    for name in STYLE_RANGES:  # a fixed order: the same seed gives the same patient
        value = float(rng.uniform(*ranges[name]))
        if name.startswith("log10_"):
            name, value = name[len("log10_"):], 10.0 ** value
        values[name] = value
    values["dropout_line"] *= 1 if rng.random() < 0.7 else -1
    return EchoStyle(**values)
