"""Pool detail: the speckle's strength inside the blood pools, set by where each pool lies in
the fan, calibrated against real images.

Real blood pools are dark and fairly smooth wherever the heart lies. The bundled model's LV
cavities carry as much grain as real ones on average, but how much depends on the mask: on
every second CAMUS train pair, the σ 2 detail inside the LV against the LV's mean depth
correlates -0.75 (real -0.29). An LV lying near the probe comes out full of fine, bright
dots (its detail 10.0 grey levels against real 8.2 for LVs centred above row 100 of 256),
one deep down a little too smooth (6.5 against 7.0 below row 130). A gain by each pixel's
own depth does not undo it (fitted so, it took the shallow LVs to 9.1 and the deep ones
down to 6.2): the whole cavity is grainy when it lies shallow. ``pool_detail`` (in a model's
:class:`~engine.nets.GeneratorConfig`) corrects it per pool:

- the image inside its fan is split, as the speckle shape splits it, into a smooth part (a
  Gaussian blur of sigma :data:`~.speckle_shape.SPLIT` within the fan) and the detail;
- each pool (the LV cavity; the left atrium) has a mean depth in the fan, and the curve's
  gain there multiplies the detail inside it, shrunk by :data:`INSET` pixels and softened
  over :data:`SOFTEN` pixels within what it was shrunk by, so a wall's speckle is left exactly
  as drawn; the smooth part, and so every region's grey level, is kept;
- the curve is a tuple of gains at :func:`~.depth_gain.gain_depths` (evenly spaced depths of
  the fan), interpolated linearly and constant beyond, as the depth gain's is; all 1 changes
  nothing.

It is a fixed function of the output and the mask: one seed still gives one image, and the
outside of the fan stays black. A pool's gain follows its mean depth, so an edit that moves a
pool changes its grain everywhere in it (a little: the fitted gains change slowly with
depth). The :class:`~engine.synthesizer.Synthesizer` applies it after the fine filter,
before the shading and the cut to the fan; models without a fan ignore it. ``cardigan tune
--fit-pool-detail DATA`` fits it on a prepared dataset's valid split
(:mod:`engine.evaluation.pool_detail_fit`).
"""

from __future__ import annotations

import numpy as np

from ..labels import LEFT_ATRIUM, LV_CAVITY
from .depth_gain import gains_problem
from .fan_split import fan_depth, fan_inside

POOLS = (LV_CAVITY, LEFT_ATRIUM)
INSET = 3  # pixels at 256: the pools are shrunk by this much before their edge is softened ...
SOFTEN = 1.5  # ... by a Gaussian of this sigma (pixels at 256) cut at two sigmas: no weight reaches the wall
MIN_GAIN, MAX_GAIN = 0.25, 2.0


def pool_problem(gains) -> str | None:
    """Why ``gains`` cannot be a pool-detail curve, or None when it can (an empty one can)."""
    return gains_problem(gains, MIN_GAIN, MAX_GAIN)


def soft_interior(region: np.ndarray, inset: int, sigma: float, truncate: float = 2.0) -> np.ndarray:
    """(H, W) float64 in [0, 1]: ``region`` (boolean) shrunk by ``inset`` pixels, its edge
    softened by a Gaussian of ``sigma`` cut at ``truncate`` sigmas: 1 deep inside, 0 outside
    and in the band it was shrunk by when ``sigma * truncate`` is within ``inset``."""
    from scipy import ndimage

    shrunk = ndimage.binary_erosion(region, iterations=inset) if inset else region
    return np.clip(ndimage.gaussian_filter(shrunk.astype(np.float64), sigma, truncate=truncate), 0.0, 1.0)


def pool_weight(region: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) float in [0, 1]: 1 deep inside ``region`` (a boolean pool), 0 outside it, a soft
    edge just inside its border; ``scale`` is the image's width over 256."""
    return soft_interior(region, max(1, round(INSET * scale)), SOFTEN * scale)


def pool_depths(labels: np.ndarray, fan) -> dict[int, float]:
    """{pool label: its mean depth as a fraction of the fan's} for the pools present."""
    depth = fan_depth(fan, *labels.shape)
    return {value: float(depth[labels == value].mean()) for value in POOLS if (labels == value).any()}


def pool_detail_one(image: np.ndarray, labels: np.ndarray, fan, gains) -> np.ndarray:
    """One (H, W) float image in [-1, 1] with each pool's detail scaled by the gain at its
    mean depth. Only the pools' bounding box, with the split's reach around it, is computed."""
    from ..fan import blur_within
    from .depth_gain import gain_depths
    from .speckle_shape import SPLIT

    changes = {}
    for value, depth in pool_depths(labels, fan).items():
        gain = float(np.interp(depth, gain_depths(len(gains)), np.asarray(gains, np.float64)))
        if gain != 1.0:
            changes[value] = gain - 1.0
    if not changes:
        return image
    height, width = image.shape
    rows, cols = np.nonzero(np.isin(labels, tuple(changes)))
    reach = int(np.ceil(4 * SPLIT)) + 1  # blur_within reads 4 sigmas around a pixel
    top, bottom = max(rows.min() - reach, 0), min(rows.max() + reach + 1, height)
    left, right = max(cols.min() - reach, 0), min(cols.max() + reach + 1, width)
    box = (slice(top, bottom), slice(left, right))
    scale = width / 256.0
    factor = sum(pool_weight(labels[box] == value, scale) * change for value, change in changes.items())
    inside, inside_blur = fan_inside(fan, height, width)
    picture = image[box].astype(np.float64)
    detail = picture - blur_within(picture, inside[box], SPLIT, inside_blur=inside_blur[box])
    out = image.copy()
    out[box] = np.clip(picture + factor * inside[box] * detail, -1.0, 1.0)
    return out


def apply_pool_detail(images: np.ndarray, labels: np.ndarray, fans, gains) -> np.ndarray:
    """(N, C, H, W) float images in [-1, 1], their label maps (N, H, W) at the same size, with
    each pool's detail scaled by the gain at its mean depth; ``images`` itself for an empty
    curve or no fans."""
    if not gains or fans is None:
        return images
    out = np.empty_like(images)
    for i, fan in enumerate(fans):
        for c in range(images.shape[1]):
            out[i, c] = pool_detail_one(images[i, c], labels[i], fan, gains)
    return out
