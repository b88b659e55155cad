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


def draw_style(rng: np.random.Generator) -> EchoStyle:
    u = rng.uniform
    return EchoStyle(
        gain_db=u(-5.0, 5.0),
        dynamic_range_db=u(48.0, 60.0),
        tissue=10 ** u(-2.4, -1.8),
        tissue_contrast=u(0.9, 1.4),
        blood=10 ** u(-4.0, -3.3),
        myocardium_texture=u(0.35, 0.6),
        septum_boost=u(1.1, 1.6),
        pericardium=u(3.0, 7.0),
        valve=u(0.5, 1.5),
        valve_open=u(0.0, 1.0),
        right_heart_scale=u(0.8, 1.1),
        depth_falloff_db=u(0.0, 9.0),
        near_field_db=u(2.0, 8.0),
        haze=10 ** u(-2.3, -1.5),
        specular=u(0.35, 0.8),
        dropout_db=u(2.0, 15.0),
        dropout_line=u(0.35, 0.8) * (1 if rng.random() < 0.7 else -1),
        edge_falloff_db=u(3.0, 9.0),
        noise=10 ** u(-4.6, -4.0),
    )
