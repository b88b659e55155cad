"""Reading the heart's pose from a label map: where the LV points, how long and wide it is.

The simulator adds structures the labels do not hold (right heart, pericardium, valves);
it places them in a frame attached to the left ventricle that is measured here from image
moments, so it works for generated masks, CAMUS ground truth and hand-painted maps alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM

MIN_PIXELS = 12  # fewer pixels than this and a structure is treated as absent


@dataclass(frozen=True)
class HeartFrame:
    """The LV frame, in pixels: ``u`` = distance from the mitral plane toward the apex,
    ``v`` = distance across the long axis toward the image right.

    Widths are half-widths. ``left``/``right`` epicardial extents are measured separately
    because the septum and the lateral wall differ.
    """

    base: tuple[float, float]  # centre of the mitral plane (x, y)
    up: tuple[float, float]  # unit vector base -> apex
    right: tuple[float, float]  # unit vector across, x component >= 0
    length: float  # cavity length (mitral plane to endocardial apex)
    epi_length: float  # mitral plane to epicardial apex
    half_width: float  # cavity
    epi_left: float
    epi_right: float
    mitral_half_width: float
    wall: float  # typical wall thickness
    atrium: tuple[float, float, float, float] | None  # (u, v, half-length, half-width) of the LA

    def coords(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) of points (x, y)."""
        dx, dy = x - self.base[0], y - self.base[1]
        return dx * self.up[0] + dy * self.up[1], dx * self.right[0] + dy * self.right[1]

    def point(self, u: float, v: float) -> tuple[float, float]:
        """(x, y) of the frame point (u, v)."""
        return (self.base[0] + u * self.up[0] + v * self.right[0],
                self.base[1] + u * self.up[1] + v * self.right[1])


def measure_heart(labels: np.ndarray) -> HeartFrame | None:
    """The LV frame of ``labels``, or None when there is no ventricle to speak of."""
    step = max(1, min(labels.shape) // 128)  # moments need no full resolution
    small = labels[::step, ::step]
    ys, xs = np.nonzero((small == LV_CAVITY) | (small == MYOCARDIUM))
    if ys.size < MIN_PIXELS:
        return None
    values = small[ys, xs]
    xs = (xs + 0.5) * step
    ys = (ys + 0.5) * step
    cavity = values == LV_CAVITY
    core_x, core_y = (xs[cavity], ys[cavity]) if cavity.sum() >= MIN_PIXELS else (xs, ys)
    cx, cy = core_x.mean(), core_y.mean()
    cov = np.cov(np.stack([core_x - cx, core_y - cy])) if core_x.size > 2 else np.eye(2)
    evals, evecs = np.linalg.eigh(cov)
    ux, uy = evecs[:, int(np.argmax(evals))]
    lay, lax = np.nonzero(small == LEFT_ATRIUM)
    atrium_pts = None
    if lay.size >= MIN_PIXELS:
        atrium_pts = ((lax + 0.5) * step, (lay + 0.5) * step)
        if (atrium_pts[0].mean() - cx) * ux + (atrium_pts[1].mean() - cy) * uy > 0:
            ux, uy = -ux, -uy  # "up" points away from the atrium
    elif uy > 0:  # no atrium: the apex is the end nearer the transducer (top)
        ux, uy = -ux, -uy
    if abs(ux) < 1e-9 and abs(uy) < 1e-9:
        ux, uy = 0.0, -1.0
    rx, ry = -uy, ux
    if rx < 0:
        rx, ry = -rx, -ry

    def project(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (px - cx) * ux + (py - cy) * uy, (px - cx) * rx + (py - cy) * ry

    cu, cv = project(core_x, core_y)
    u_base, u_apex = float(cu.min()), float(cu.max())
    length = max(u_apex - u_base, 1.0)
    half_width = max(float(cv.max() - cv.min()) / 2.0, 1.0)
    near_base = cu <= u_base + max(0.08 * length, 1.5 * step)
    mitral_lo, mitral_hi = float(cv[near_base].min()), float(cv[near_base].max())
    base_v = 0.5 * (mitral_lo + mitral_hi)
    base = (cx + u_base * ux + base_v * rx, cy + u_base * uy + base_v * ry)

    au, av = project(xs, ys)
    au, av = au - u_base, av - base_v
    epi_length = max(float(au.max()), length)
    epi_left = max(float(-av.min()), half_width)
    epi_right = max(float(av.max()), half_width)
    myo = values == MYOCARDIUM
    wall = (epi_left + epi_right) / 2.0 - half_width if myo.sum() >= MIN_PIXELS else 0.0
    wall = float(np.clip(wall, 1.0, 0.5 * half_width + 1.0))

    atrium = None
    if atrium_pts is not None:
        lu, lv = project(*atrium_pts)
        lu, lv = lu - u_base, lv - base_v
        atrium = (float(lu.mean()), float(lv.mean()),
                  max(float(lu.max() - lu.min()) / 2.0, 1.0), max(float(lv.max() - lv.min()) / 2.0, 1.0))
    return HeartFrame(base=(float(base[0]), float(base[1])), up=(float(ux), float(uy)),
                      right=(float(rx), float(ry)), length=length, epi_length=epi_length,
                      half_width=half_width, epi_left=epi_left, epi_right=epi_right,
                      mitral_half_width=max((mitral_hi - mitral_lo) / 2.0, 1.0),
                      wall=wall, atrium=atrium)


def guess_view(frame: HeartFrame | None, width: int) -> str:
    """2CH or 4CH from the pose: in apical 4CH the LV sits right of the centre to leave
    room for the right heart on the image left; in 2CH it is centred."""
    if frame is None:
        return "2CH"
    centre_x = frame.point(frame.length / 2.0, 0.0)[0]
    return "4CH" if centre_x > 0.53 * width else "2CH"

