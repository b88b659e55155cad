"""Speckle's direction: how far the grain reaches across the beam and along it.

A B-mode image's speckle is short along the beam (a pulse is short) and drawn out across it,
along the arcs of equal depth (a beam is wide). A reader notices grain with no direction at
once. For each image and its fan (:class:`engine.fan.Fan`):

- the speckle is what is left after subtracting a Gaussian blur (sigma :data:`BLUR` pixels),
  so the anatomy's edges and grey levels do not count;
- at points inside the fan (at least :data:`MARGIN` pixels from its edge, between
  :data:`NEAR` and :data:`FAR` of its depth), the residual is correlated with itself a
  distance ``d`` away across the beam (along the arc through the point, the lateral
  direction) and along the beam (the line from the apex, the axial direction), for d = 1 to
  :data:`MAX_LAG` pixels, bilinearly sampled;
- a direction's reach is the distance at which the correlation, averaged over the images,
  falls to one half (linearly interpolated; :data:`MAX_LAG` when it never does), and the
  anisotropy is the lateral reach over the axial one: about 1 for grain with no direction,
  above 1 for speckle drawn out along the arcs.

Streaks (:func:`beam_streaks`): the same correlation a few pixels along and across the beam,
of the residual after a wider blur (sigma :data:`STREAK_BLUR`), where the texture is a few
pixels long rather than one grain. A reader calls texture drawn out along the beam at that
scale "spokes" from the apex; real texture there decorrelates faster along the beam than
across it, so ``along`` well above the real images' is that tell.

The fan's edge band (:func:`edge_band`): the same correlation 2 pixels along and across the
beam at points 1 to 5 pixels inside the fan's sides, where the other measures do not look
(their blur would count the step into the black as texture). There the residual is taken
after a blur within the fan (the blur of image x fan over the blur of the fan), and the band's
mean grey level 1 pixel in is compared with the fan's 15 to 25 pixels in: how the image fades
into the black. Speckle drawn out along the fan's sides where real speckle crosses them, or a
darker rim, gives a generator away there.

Speckle's skew (:func:`speckle_skew`): the same residual's skewness in each label region.
Real speckle is bright specks and streaks on a darker ground, so its residual leans to the
bright side (skewness above 0, most in the blood pools); grain made by smoothing symmetric
noise does not lean (about 0). A classifier tells a real image from one whose residual is
turned upside down at once, so this is one of the things a generator must get right.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

BLUR = 3.0
MARGIN = 8
NEAR, FAR = 0.15, 0.9
MAX_LAG = 8
STREAK_BLUR = 8.0  # the medium-scale residual of beam_streaks
STREAK_LAG = 4  # pixels along and across the beam
STREAK_MARGIN = 16  # pixels from the fan's edge (the wider blur reaches further into the black)
EDGE_BAND = (1, 5)  # pixels inside the fan's edge: the band edge_band looks at
EDGE_LAG = 2  # pixels along and across the beam
EDGE_DEPTH = (0.25, 0.8)  # of the fan's depth: its sides, below the near field and above the arc
EDGE_INTERIOR = (15, 25)  # pixels inside the edge: the grey level the fade is measured against
STEP = 2  # every second pixel of the region, both ways
SKEW_EDGE = 3  # pixels kept away from a region's border (the anatomy's edges are not speckle)
SKEW_MIN_PIXELS = 100  # a region counts in an image with at least this many usable pixels
SKEW_GREYS = (10, 245)  # usable pixels lie strictly between these (no black, no saturation)


def lagged_correlation(residual: np.ndarray, ys: np.ndarray, xs: np.ndarray, direction: np.ndarray,
                       lag: float) -> float:
    """The correlation of ``residual`` at the points (``ys``, ``xs``) with itself ``lag``
    pixels away along ``direction`` ((2, N) unit vectors), sampled bilinearly; 0 when either
    side is flat."""
    from scipy import ndimage

    here = residual[ys.astype(np.int64), xs.astype(np.int64)]
    there = ndimage.map_coordinates(residual, [ys + lag * direction[0], xs + lag * direction[1]], order=1,
                                    mode="nearest")
    denominator = math.sqrt(float(np.mean(here ** 2)) * float(np.mean(there ** 2)))
    return float(np.mean(here * there)) / denominator if denominator > 0 else 0.0


def _points(fan, height: int, width: int, margin: int = MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """Every STEP-th pixel position (both ways) inside the fan, ``margin`` from its edge,
    between NEAR and FAR of its depth."""
    from scipy import ndimage

    from ..fan import fan_mask

    inside = ndimage.binary_erosion(fan_mask(fan, height, width), iterations=margin)[::STEP, ::STEP]
    ys, xs = np.mgrid[:height:STEP, :width:STEP].astype(np.float64)
    depth = fan.beam_coordinates(ys + 0.5, xs + 0.5, height, width)[0] / (fan.depth * height)
    keep = inside & (depth >= NEAR) & (depth <= FAR)
    return ys[keep], xs[keep]


def correlation_curves(image: np.ndarray, fan, blur: float = BLUR, lags: Sequence[int] = range(1, MAX_LAG + 1),
                       margin: int = MARGIN) -> dict[str, np.ndarray] | None:
    """The residual's (after a sigma ``blur`` blur) correlation at ``lags`` across and along
    the beam for one (H, W) image, at points ``margin`` from the fan's edge; None when too
    few points lie inside the fan."""
    from scipy import ndimage

    height, width = image.shape
    ys, xs = _points(fan, height, width, margin)
    if len(ys) < 50:
        return None
    picture = np.asarray(image, dtype=np.float64)
    residual = picture - ndimage.gaussian_filter(picture, blur)
    axial, lateral = fan.beam_axes(ys, xs, height, width)
    return {name: np.array([lagged_correlation(residual, ys, xs, direction, lag) for lag in lags])
            for name, direction in (("lateral", lateral), ("axial", axial))}


def reach(curve: np.ndarray) -> float:
    """The lag (pixels) at which a correlation curve for lags 1, 2, ... first falls to 0.5,
    linearly interpolated (from 1.0 at lag 0); the last lag when it never does."""
    values = np.concatenate([[1.0], np.asarray(curve, dtype=np.float64)])
    below = np.nonzero(values <= 0.5)[0]
    if len(below) == 0:
        return float(len(values) - 1)
    k = int(below[0])
    return float(k - 1 + (values[k - 1] - 0.5) / (values[k - 1] - values[k]))


def speckle_direction(images: np.ndarray, fans: list) -> dict:
    """Lateral and axial reach (pixels) and their ratio over (N, H, W) uint8 images."""
    curves = [c for c in (correlation_curves(image, fan) for image, fan in zip(images, fans)) if c is not None]
    if not curves:
        return {"lateral": float("nan"), "axial": float("nan"), "anisotropy": float("nan"), "images": 0}
    lateral = reach(np.mean([c["lateral"] for c in curves], axis=0))
    axial = reach(np.mean([c["axial"] for c in curves], axis=0))
    return {"lateral": lateral, "axial": axial, "anisotropy": lateral / axial if axial > 0 else float("nan"),
            "images": len(curves)}


def beam_streaks(images: np.ndarray, fans: list) -> dict:
    """{"along", "across"}: the medium-scale residual's correlation :data:`STREAK_LAG` pixels
    along and across the beam, averaged over (N, H, W) uint8 images (see the module)."""
    curves = [c for c in (correlation_curves(image, fan, STREAK_BLUR, [STREAK_LAG], STREAK_MARGIN)
                          for image, fan in zip(images, fans)) if c is not None]
    if not curves:
        return {"along": float("nan"), "across": float("nan"), "images": 0}
    return {"along": float(np.mean([c["axial"][0] for c in curves])),
            "across": float(np.mean([c["lateral"][0] for c in curves])), "images": len(curves)}


def speckle_skew(images: np.ndarray, labels: np.ndarray, fans: list) -> dict:
    """Mean skewness of the speckle residual (after a sigma :data:`BLUR` blur) per label
    region over (N, H, W) uint8 images with their label maps and fans: at pixels at least
    :data:`MARGIN` from the fan's edge and :data:`SKEW_EDGE` from the region's, not black or saturated
    (:data:`SKEW_GREYS`); an image counts for a region with :data:`SKEW_MIN_PIXELS` of them."""
    from scipy import ndimage

    from ..fan import fan_mask
    from .realism import REGIONS

    per_region: dict[str, list[float]] = {name: [] for name, _ in REGIONS}
    for image, label, fan in zip(images, labels, fans):
        picture = np.asarray(image, dtype=np.float64)
        residual = picture - ndimage.gaussian_filter(picture, BLUR)
        inside = ndimage.binary_erosion(fan_mask(fan, *picture.shape), iterations=MARGIN)
        usable = inside & (picture > SKEW_GREYS[0]) & (picture < SKEW_GREYS[1])
        for name, value in REGIONS:
            where = usable & ndimage.binary_erosion(label == value, iterations=SKEW_EDGE)
            if where.sum() < SKEW_MIN_PIXELS:
                continue
            r = residual[where] - residual[where].mean()
            spread = float(np.mean(r ** 2))
            if spread > 0:
                per_region[name].append(float(np.mean(r ** 3)) / spread ** 1.5)
    return {name: float(np.mean(v)) if v else float("nan") for name, v in per_region.items()}


def edge_band_curves(image: np.ndarray, fan) -> dict | None:
    """{"along", "across", "fade"} of one (H, W) image (see :func:`edge_band`); None when the
    band holds under 50 points."""
    from scipy import ndimage

    from ..fan import blur_within, edge_distance, fan_mask

    height, width = image.shape
    picture = np.asarray(image, dtype=np.float64)
    inside = fan_mask(fan, height, width).astype(np.float64)
    residual = (picture - blur_within(picture, inside, BLUR)) * inside
    distance = edge_distance(fan, height, width)
    ys, xs = np.mgrid[:height, :width].astype(np.float64)
    depth = fan.beam_coordinates(ys + 0.5, xs + 0.5, height, width)[0] / (fan.depth * height)
    sides = (depth >= EDGE_DEPTH[0]) & (depth <= EDGE_DEPTH[1])
    band = sides & (distance >= EDGE_BAND[0]) & (distance < EDGE_BAND[1])
    interior = sides & (distance >= EDGE_INTERIOR[0]) & (distance < EDGE_INTERIOR[1])
    rim = sides & (distance >= 1) & (distance < 2)
    if band.sum() < 50 or not interior.any() or not rim.any():
        return None
    py, px = ys[band], xs[band]
    here = residual[band]
    axial, lateral = fan.beam_axes(py, px, height, width)
    out = {}
    for name, direction in (("across", lateral), ("along", axial)):
        products = []
        for sign in (1, -1):  # both ways: one of them leaves the fan at its edge
            there = ndimage.map_coordinates(residual, [py + sign * EDGE_LAG * direction[0],
                                                       px + sign * EDGE_LAG * direction[1]], order=1)
            products.append(np.mean(here * there))
        spread = float(np.mean(here ** 2))
        out[name] = float(np.mean(products)) / spread if spread > 0 else 0.0
    reference = float(picture[interior].mean())
    out["fade"] = float(picture[rim].mean()) / reference if reference > 0 else float("nan")
    return out


def edge_band(images: np.ndarray, fans: list) -> dict:
    """{"along", "across", "fade", "images"} over (N, H, W) uint8 images in their fans: the
    speckle residual's correlation :data:`EDGE_LAG` pixels along and across the beam in the
    band :data:`EDGE_BAND` pixels inside the fan's sides, and the band's grey level 1 pixel in
    over the fan's :data:`EDGE_INTERIOR` pixels in (see the module)."""
    curves = [c for c in (edge_band_curves(image, fan) for image, fan in zip(images, fans)) if c is not None]
    if not curves:
        return {"along": float("nan"), "across": float("nan"), "fade": float("nan"), "images": 0}
    return {**{k: float(np.mean([c[k] for c in curves])) for k in ("along", "across", "fade")},
            "images": len(curves)}
