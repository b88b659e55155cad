"""Sector geometry of a phased-array probe and the polar <-> Cartesian maps.

Without a fan (:mod:`engine.fan`) the sector has its apex (the transducer) at the top
centre of the picture and opens ``OPENING_DEG`` degrees downward, reaching the full height.
With one, the beams follow that fan (and nothing is drawn outside :func:`engine.fan.fan_mask`,
the blank probe face around the apex included): its apex, its two edges and its arc, including the
horizontal squash of CAMUS frames (beams at angle psi reach x = apex + r sin(psi) * squash,
y = apex + r cos(psi), in pixels scaled as the fan says). Echoes are simulated on a polar grid (depth samples x
beam lines) and scan-converted to the output pixels. Everything here depends only on the
output size, so it is computed once per size and cached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

OPENING_DEG = 64.0  # CAMUS fans: 64 degrees (5-95 % of patients: 62-70) in the square export
DEPTH_FRACTION = 1.0  # fan radius as a fraction of the picture height (CAMUS: the full height)
AXIAL_SIGMA = 0.0044  # pulse envelope sigma, fraction of the fan radius (see speckle_smoothing)
SAMPLES_PER_SIGMA = 1.45  # depth sampling of the radio-frequency signal
MAX_DEPTH_SAMPLES = 1536
MAX_LINES = 512


@dataclass(frozen=True, eq=False)
class Sector:
    """The fan for one output size, with its polar sampling grid.

    ``x``/``y`` give the Cartesian position (in pixels, centres at +0.5) of every polar
    sample, shape (n_depth, n_lines); ``depth`` is each sample's distance from the apex.
    """

    height: int
    width: int
    apex_x: float
    apex_y: float
    radius: float
    half_angle: float  # half the opening, radians (beam-angle space)
    n_depth: int
    n_lines: int
    depth: np.ndarray  # (n_depth,) pixels
    angles: np.ndarray  # (n_lines,) radians, 0 straight down, positive toward the right
    x: np.ndarray
    y: np.ndarray
    axial_sigma_px: float
    mid_angle: float = 0.0  # direction of the centre beam, radians
    lateral: float = 1.0  # horizontal stretch of the beam geometry (the fan's squash, in pixels)
    fan: object = None  # the engine.fan.Fan it follows, if any

    def relative_angle(self) -> np.ndarray:
        """Each beam line's angle from the centre line as a fraction of the half opening."""
        return (self.angles - self.mid_angle) / self.half_angle

    @property
    def depth_step(self) -> float:
        return float(self.depth[1] - self.depth[0])

    @property
    def line_step(self) -> float:
        return float(self.angles[1] - self.angles[0])


@lru_cache(maxsize=16)
def sector_for(height: int, width: int, fan=None) -> Sector:
    """The fan and polar grid for a ``height`` x ``width`` picture, following ``fan``
    (:class:`engine.fan.Fan`) when given."""
    if fan is not None:
        return _fan_sector(height, width, fan)
    radius = DEPTH_FRACTION * height
    half = math.radians(OPENING_DEG / 2.0)
    sigma_px = max(0.6, AXIAL_SIGMA * radius)
    step = sigma_px / SAMPLES_PER_SIGMA
    n_depth = int(min(MAX_DEPTH_SAMPLES, max(64, math.ceil(radius / step))))
    # beams close enough that the widest lateral point-spread function is well sampled
    n_lines = int(min(MAX_LINES, max(48, 2 * round(0.26 * height))))
    depth = (np.arange(n_depth, dtype=np.float64) + 0.5) * (radius / n_depth)
    angles = np.linspace(-half, half, n_lines)
    apex_x, apex_y = width / 2.0, 0.0
    x = apex_x + depth[:, None] * np.sin(angles)[None, :]
    y = apex_y + depth[:, None] * np.cos(angles)[None, :]
    return Sector(height, width, apex_x, apex_y, radius, half, n_depth, n_lines, depth, angles,
                  x.astype(np.float32), y.astype(np.float32), sigma_px)


def _fan_sector(height: int, width: int, fan) -> Sector:
    """A sector whose beams fill ``fan``: edges at the fan's directions, the arc at its depth."""
    radius = fan.depth * height  # along the centre line, in pixels
    lateral = fan.squash * width / height
    # an edge seen at angle phi in the picture is a beam at psi with tan(phi) = lateral tan(psi)
    # (directions in the picture are measured in the normalised square, hence width / height)
    left = math.atan(math.tan(math.radians(fan.left)) * width / height / lateral)
    right = math.atan(math.tan(math.radians(fan.right)) * width / height / lateral)
    sigma_px = max(0.6, AXIAL_SIGMA * radius)
    step = sigma_px / SAMPLES_PER_SIGMA
    n_depth = int(min(MAX_DEPTH_SAMPLES, max(64, math.ceil(radius / step))))
    opening = (right - left) / math.radians(OPENING_DEG)
    n_lines = int(min(MAX_LINES, max(48, 2 * round(0.13 * opening * height * max(lateral, 1.0)))))
    depth = (np.arange(n_depth, dtype=np.float64) + 0.5) * (radius / n_depth)
    angles = np.linspace(left, right, n_lines)
    apex_x, apex_y = fan.apex_x * width, fan.apex_y * height
    x = apex_x + depth[:, None] * np.sin(angles)[None, :] * lateral
    y = apex_y + depth[:, None] * np.cos(angles)[None, :]
    return Sector(height, width, apex_x, apex_y, radius, (right - left) / 2.0, n_depth, n_lines, depth,
                  angles, x.astype(np.float32), y.astype(np.float32), sigma_px,
                  mid_angle=(left + right) / 2.0, lateral=lateral, fan=fan)


def _pixel_polar(sector: Sector) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polar coordinates (depth, angle) of every pixel centre and the in-fan mask."""
    ys, xs = np.mgrid[0:sector.height, 0:sector.width].astype(np.float64) + 0.5
    dx, dy = (xs - sector.apex_x) / sector.lateral, ys - sector.apex_y
    r = np.hypot(dx, dy)
    theta = np.arctan2(dx, dy)
    first = sector.mid_angle - sector.half_angle
    inside = (r <= sector.radius) & (np.abs(theta - sector.mid_angle) <= sector.half_angle) & (dy > 0)
    if sector.fan is not None:  # never beyond the fan's own outline (which spares the probe's face)
        from ..fan import fan_mask

        inside &= fan_mask(sector.fan, sector.height, sector.width)
    return r, theta - first, inside


@lru_cache(maxsize=16)
def sector_mask(height: int, width: int, fan=None) -> np.ndarray:
    """Boolean (height, width) mask of the pixels inside the fan (read-only)."""
    _, _, inside = _pixel_polar(sector_for(height, width, fan))
    inside.setflags(write=False)
    return inside


@dataclass(frozen=True, eq=False)
class ScanConversion:
    """Bilinear lookup from the polar grid to the in-fan pixels."""

    pixels: np.ndarray  # flat indices of in-fan pixels
    corners: np.ndarray  # (4, n) flat indices into the polar grid
    weights: np.ndarray  # (4, n) float32 bilinear weights


@lru_cache(maxsize=16)
def scan_conversion(height: int, width: int, fan=None) -> ScanConversion:
    sector = sector_for(height, width, fan)
    r, offset, inside = _pixel_polar(sector)
    pixels = np.flatnonzero(inside)
    fr = r.ravel()[pixels] / (sector.radius / sector.n_depth) - 0.5
    ft = offset.ravel()[pixels] / sector.line_step
    fr = np.clip(fr, 0.0, sector.n_depth - 1.000001)
    ft = np.clip(ft, 0.0, sector.n_lines - 1.000001)
    r0, t0 = np.floor(fr).astype(np.int64), np.floor(ft).astype(np.int64)
    wr, wt = fr - r0, ft - t0
    n = sector.n_lines
    corners = np.stack([r0 * n + t0, r0 * n + t0 + 1, (r0 + 1) * n + t0, (r0 + 1) * n + t0 + 1])
    weights = np.stack([(1 - wr) * (1 - wt), (1 - wr) * wt, wr * (1 - wt), wr * wt]).astype(np.float32)
    return ScanConversion(pixels, corners, weights)


def to_cartesian(polar: np.ndarray, height: int, width: int, fan=None) -> np.ndarray:
    """Scan-convert a (n_depth, n_lines) polar image to (height, width); 0 outside the fan."""
    conv = scan_conversion(height, width, fan)
    flat = polar.ravel()
    values = (flat[conv.corners] * conv.weights).sum(axis=0)
    out = np.zeros(height * width, dtype=np.float32)
    out[conv.pixels] = values
    return out.reshape(height, width)


@lru_cache(maxsize=16)
def polar_lookup(height: int, width: int, fan=None) -> np.ndarray:
    """Flat pixel index nearest to every polar sample (clamped to the picture)."""
    sector = sector_for(height, width, fan)
    col = np.clip(np.floor(sector.x).astype(np.int64), 0, width - 1)
    row = np.clip(np.floor(sector.y).astype(np.int64), 0, height - 1)
    return row * width + col


def to_polar_nearest(labels: np.ndarray, fan=None) -> np.ndarray:
    """Sample a (H, W) label map at every polar grid point (nearest pixel)."""
    height, width = labels.shape
    return labels.ravel()[polar_lookup(height, width, fan)]
