"""The echogenicity map: how strongly each point of the fan scatters ultrasound.

Built directly on the polar grid from the label map plus what real apical views show but
labels never hold: the right ventricle and atrium (4CH), the pericardium behind the LV,
mitral and tricuspid leaflets, the bright annulus and septum, tissue heterogeneity,
apical clutter, and dimming of walls that run along the beam (lateral dropout).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..anatomy import bullet_half_width
from ..labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from .geometry import Sector, to_polar_nearest
from .heart import HeartFrame
from .style import EchoStyle


@lru_cache(maxsize=64)
def _interpolation(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Catmull-Rom weights (n_out, 4) and source indices (n_out, 4) from a coarse grid of
    ``n_in`` knots spanning the output (the outermost knots only steer the ends)."""
    pos = np.linspace(1.0, n_in - 2.0, n_out)
    base = np.minimum(np.floor(pos).astype(np.intp), n_in - 3)
    t = (pos - base)[:, None]
    weights = np.concatenate([(-t + 2 * t**2 - t**3) / 2, (2 - 5 * t**2 + 3 * t**3) / 2,
                              (t + 4 * t**2 - 3 * t**3) / 2, (-t**2 + t**3) / 2], axis=1)
    index = base[:, None] - 1 + np.arange(4)[None, :]
    return weights.astype(np.float32), np.clip(index, 0, n_in - 1)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    """Smooth random field of about unit spread: normal noise on a coarse grid, interpolated."""
    coarse = rng.standard_normal((cells[0] + 3, cells[1] + 3), dtype=np.float32)
    w_rows, i_rows = _interpolation(shape[0], cells[0] + 3)
    w_cols, i_cols = _interpolation(shape[1], cells[1] + 3)
    rows = np.einsum("ok,okc->oc", w_rows, coarse[i_rows])  # (shape[0], cells[1] + 3)
    field = np.einsum("rok,ok->ro", rows[:, i_cols], w_cols)
    return field * 1.5


def _segment(u: np.ndarray, v: np.ndarray, start: tuple[float, float], direction: tuple[float, float],
             length: float, half_thickness: float) -> np.ndarray:
    """Points within ``half_thickness`` of a segment (frame coordinates)."""
    du, dv = u - start[0], v - start[1]
    t = np.clip(du * direction[0] + dv * direction[1], 0.0, length)
    return (du - t * direction[0]) ** 2 + (dv - t * direction[1]) ** 2 <= half_thickness ** 2


def _leaflet_direction(toward_centre: float, opening: float) -> tuple[float, float]:
    """A leaflet's unit direction: closed it spans the annulus (bowing slightly toward the
    atrium), open it points into the ventricle. ``toward_centre`` is +1 or -1 in v."""
    closed = (-0.2, toward_centre)
    opened = (1.0, 0.25 * toward_centre)
    du = closed[0] + (opened[0] - closed[0]) * opening
    dv = closed[1] + (opened[1] - closed[1]) * opening
    norm = math.hypot(du, dv)
    return du / norm, dv / norm


def reflectivity(labels: np.ndarray, sector: Sector, frame: HeartFrame | None, view: str,
                 style: EchoStyle, rng: np.random.Generator) -> np.ndarray:
    """Echogenicity on the polar grid (n_depth, n_lines), myocardium ~ 1, float32."""
    shape = (sector.n_depth, sector.n_lines)
    lab = to_polar_nearest(labels, sector.fan)
    lut = np.array([style.tissue, style.blood, 1.0, style.blood], dtype=np.float32)
    refl = lut[lab]
    tissue = lab == BACKGROUND
    myo = lab == MYOCARDIUM

    hetero = np.exp(style.tissue_contrast * smooth_field(rng, shape, (9, 7))
                    + 0.35 * smooth_field(rng, shape, (40, 24)))
    texture = np.exp(style.myocardium_texture * smooth_field(rng, shape, (70, 40)))
    refl *= np.where(tissue, hetero, np.where(myo, texture, 1.0))

    if frame is not None:
        # the added structures are smooth shapes: half the depth resolution is plenty
        wall_gain, added = _context(lab[::2], sector, frame, view, style)
        wall_gain = np.repeat(wall_gain, 2, axis=0)[:shape[0]]
        added = np.repeat(added, 2, axis=0)[:shape[0]]
        refl = np.where(myo, refl * wall_gain, refl)
        refl = np.where(added >= 0, added * texture, refl)

    # apical clutter: a haze in the near field that fills the apex of the cavity
    depth = (sector.depth / sector.radius).astype(np.float32)[:, None]
    haze = style.haze * np.exp(-depth / 0.06) * np.exp(0.8 * smooth_field(rng, shape, (30, 14)))
    refl = refl + haze

    # lateral dropout and dimming toward the sector edges (per beam line)
    theta = sector.relative_angle().astype(np.float32)[None, :]
    edge_db = style.edge_falloff_db * np.abs(theta) ** 3
    drop = np.exp(-((theta - style.dropout_line) / 0.22) ** 2)
    mid = np.exp(-((depth - 0.45) / 0.25) ** 2)
    loss_db = edge_db + style.dropout_db * drop * mid
    refl = refl * (10.0 ** (-loss_db / 10.0))
    return np.maximum(refl + style.noise, 0.0).astype(np.float32)


def _context(lab: np.ndarray, sector: Sector, frame: HeartFrame, view: str,
             style: EchoStyle) -> tuple[np.ndarray, np.ndarray]:
    """On every other depth sample: (gain for the myocardium, echogenicity of added
    structures or -1 where nothing is added)."""
    u, v = frame.coords(sector.x[::2], sector.y[::2])
    tissue, myo = lab == BACKGROUND, lab == MYOCARDIUM
    blood = (lab == LV_CAVITY) | (lab == LEFT_ATRIUM)
    length, epi_len = frame.length, frame.epi_length
    epi_hw = 0.5 * (frame.epi_left + frame.epi_right)
    thin = max(0.5, 0.0035 * sector.height)  # leaflet / pericardium half-thickness

    # walls parallel to the beam reflect little: scale by |cos| between the wall normal
    # (of an ellipse fitted to the ventricle) and the beam direction
    uc, a, b = 0.45 * epi_len, 0.6 * epi_len + 1.0, epi_hw + 1.0
    gu, gv = (u - uc) / (a * a), v / (b * b)
    nx = gu * frame.up[0] + gv * frame.right[0]
    ny = gu * frame.up[1] + gv * frame.right[1]
    cos = np.abs(nx * np.sin(sector.angles) + ny * np.cos(sector.angles)) / (np.hypot(nx, ny) + 1e-6)
    wall_gain = ((1.0 - style.specular) + style.specular * np.sqrt(cos)).astype(np.float32)
    if view == "4CH":
        wall_gain = np.where(v < 0, wall_gain * style.septum_boost, wall_gain)

    added = np.full(lab.shape, -1.0, dtype=np.float32)
    free = tissue.copy()  # tissue not yet taken by an added structure

    def put(region: np.ndarray, value, also: np.ndarray | None = None) -> np.ndarray:
        """Add a structure on still-free tissue (and on ``also``); returns where it went."""
        nonlocal free, added
        region = region & (free if also is None else free | also)
        added = np.where(region, value, added)
        free = free & ~region
        return region

    if view == "4CH":
        _right_heart(u, v, frame, style, thin, wall_gain, put)

    # pericardium: a bright line a little outside the epicardium, around the apex and the
    # lateral wall (in 4CH the right ventricle takes the septal side)
    gap = max(1.0, 0.25 * frame.wall)
    width = max(1.2, 2.2 * thin)
    side = np.where(v >= 0, frame.epi_right, frame.epi_left)
    absv = np.abs(v)
    outer = bullet_half_width(u, epi_len + gap + width, 1.0, 0.33, 2.0, 0.9) * (side + gap + width)
    inner = bullet_half_width(u, epi_len + gap, 1.0, 0.33, 2.0, 0.9) * (side + gap)
    peri = (absv <= outer) & ((absv > inner) | (u > epi_len + gap)) & (u > 0.12 * length)
    if view == "4CH":
        peri &= v > -0.3 * frame.epi_left
    side_gain = np.where(v >= 0, 1.0, 0.6) if view == "2CH" else 1.0
    put(peri, style.pericardium * side_gain * np.sqrt(wall_gain))

    # the fibrous tissue behind the atria (atrioventricular groove) is bright too
    if frame.atrium is not None:
        la_u, la_v, la_hl, la_hw = frame.atrium
        rr = ((u - la_u) / (la_hl + gap)) ** 2 + ((v - la_v) / (la_hw + gap)) ** 2
        behind = (rr <= (1.0 + 2.5 * width / la_hw) ** 2) & (rr > 1.0) & (u < la_u - 0.2 * la_hl)
        put(behind, 0.3 * style.pericardium * wall_gain)

    # mitral annulus (bright) and leaflets (thin streaks from the annulus)
    ann_r = max(1.0, 0.45 * frame.wall)
    for sign, scale in ((-1.0, 0.5), (1.0, 0.35)):  # the anterior (septal) leaflet is longer
        start = (0.0, sign * frame.mitral_half_width)
        annulus = (u - start[0]) ** 2 + (v - start[1]) ** 2 <= ann_r ** 2
        put(annulus, style.pericardium * 0.6, also=myo)
        leaflet = _segment(u, v, start, _leaflet_direction(-sign, style.valve_open),
                           scale * 2.0 * frame.mitral_half_width, thin)
        put(leaflet, style.valve, also=blood)
    return wall_gain, added


def _right_heart(u, v, frame: HeartFrame, style: EchoStyle, thin: float, wall_gain, put) -> None:
    """Right ventricle along the septum, right atrium beside the left one, tricuspid leaflets."""
    scale = style.right_heart_scale
    length, epi_len = frame.length, frame.epi_length
    mitral_ratio = float(np.clip(frame.mitral_half_width / frame.half_width, 0.5, 0.95))
    u_tv = 0.07 * length  # the tricuspid annulus sits a little nearer the apex
    rv_len = 0.78 * epi_len * scale
    rv_hw = 0.25 * (frame.epi_left + frame.epi_right) * scale
    wall = max(1.0, 0.45 * frame.wall)
    ru = u - u_tv
    # the septum's left edge, following the epicardial outline (not beyond its base width)
    epi_left = bullet_half_width(u, epi_len, frame.epi_left, 0.33, 2.0, min(0.98, mitral_ratio + 0.1))
    septum_v = -np.maximum(epi_left, np.where(u > 0, 0.25 * frame.epi_left, frame.epi_left))
    shape = bullet_half_width(ru, rv_len + wall + 2 * thin, 1.0, 0.18, 1.6, 0.85)
    peri_hw = shape * (rv_hw + wall + 2 * thin)
    wall_hw = np.maximum(peri_hw - 2 * thin, 0.0)
    blood_hw = np.maximum(wall_hw - wall, 0.0)
    centre_v = septum_v - blood_hw
    off = np.abs(v - centre_v)
    beside = (ru >= 0) & (v < septum_v + 1)
    rv_blood = put(beside & (off <= blood_hw), style.blood)
    put(beside & (off <= wall_hw), 0.8 * wall_gain)
    put(beside & (off <= peri_hw), 0.6 * style.pericardium * wall_gain)

    la_u, la_v, la_hl, la_hw = frame.atrium or (-0.25 * length, 0.0, 0.22 * length, 0.25 * length)
    ra_hl, ra_hw = 0.9 * la_hl * scale, 0.8 * la_hw * scale
    ra_u = min(la_u, u_tv - 0.8 * ra_hl)
    ra_v = la_v - la_hw - 0.8 * ra_hw
    rr = ((u - ra_u) / ra_hl) ** 2 + ((v - ra_v) / ra_hw) ** 2
    below = u < u_tv
    put(below & (rr <= 1.0), style.blood)
    put(below & (rr <= (1.0 + 2.0 * thin / ra_hw) ** 2), 0.4 * wall_gain)

    tv_hw = max(float(bullet_half_width(np.zeros(1), rv_len, rv_hw, 0.18, 1.6, 0.85)[0]), 1.0)
    tv_centre = -frame.epi_left - tv_hw
    for sign in (-1.0, 1.0):
        start = (u_tv, tv_centre + sign * tv_hw)
        leaflet = _segment(u, v, start, _leaflet_direction(-sign, style.valve_open), 0.8 * tv_hw, thin)
        put(leaflet, 0.8 * style.valve, also=rv_blood)
