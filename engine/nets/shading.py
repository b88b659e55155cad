"""Shading: the large-scale brightness layout that changes from scan to scan, drawn per seed
after the network from a statistical model of how real images differ from the model's.

Two real scans of the same heart differ in more than speckle: the probe's ring-down draws
bright and dark bands under it, ribs and lung shade one side of the fan, the far field drops
out, the sonographer turns the gain up or down by depth. A generator trained on a few thousand
images tends to draw one typical layout for every mask (the bundled model: the same bright
oblique patch under the apex in every image), and the two-sample classifier reads that at once.
``shading`` (in a model's :class:`~engine.nets.GeneratorConfig`) gives each seed its own:

- the fan is cut into a grid of :data:`DEPTH_BINS` depths (along the arcs, from the apex to
  the arc) by :data:`ANGLE_BINS` directions (from the left edge to the right), in the fan's own
  beam coordinates (:meth:`engine.fan.Fan.beam_coordinates`), so a tilted or squashed fan is
  followed;
- the setting is a tuple of rows, each of :data:`GRID` numbers (depth-major): the first is a
  mean log-gain, each following one a direction of variation scaled by its spread (fitted as
  the principal components of real-minus-model log brightness maps of the same masks,
  :mod:`engine.evaluation.shading_fit`);
- a seed draws one standard normal coefficient per direction (clipped to
  ±:data:`COEFFICIENT_CLIP`, from its own random stream, so the network's noise is
  unchanged); the image's log-gain map is the mean plus the coefficients times the
  directions, read bilinearly at each pixel's grid position (constant beyond the outer cell
  centres);
- where the gain darkens, a pixel's grey level is multiplied by it (a shadow dims the
  speckle with the tissue); where it brightens, only the local mean (a Gaussian of
  :data:`SMOOTH` pixels at 256 within the fan, :func:`engine.fan.blur_within`) is lifted, the speckle about it kept,
  and never past grey level :data:`CEILING`: in a log-compressed image a brighter region
  has a higher level, not a wider speckle, and multiplying the speckle's peaks drove 154 of
  800 images past 5 % white (real: 8). The local mean counts the fan only, and the image is
  cut to its fan afterwards, so the outside stays black;
- one seed gives one map, so a cine loop (one seed for the loop) keeps its shading as a probe
  held still does, and an edited region's redraw keeps it too;
- it is applied by the :class:`~engine.synthesizer.Synthesizer` after the depth gain, the
  speckle shape and the fine filter, before the image is cut to its fan; models without a fan ignore it, and an
  empty tuple (the default) changes nothing. ``cardigan tune --fit-shading DATA`` fits it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

DEPTH_BINS = 32  # along the depth, from the apex to the arc
ANGLE_BINS = 12  # across the fan, from its left edge to its right
GRID = DEPTH_BINS * ANGLE_BINS
MAX_COMPONENTS = 63  # directions a model may carry
MAX_LOG_GAIN = 3.0  # |value| of any number in the rows
COEFFICIENT_CLIP = 2.5
SEED_SALT = 0x73686164  # keeps the coefficients' stream apart from the noise map's
CEILING = 200.0  # grey level: brightening lifts no local mean past it
SMOOTH = 3.0  # pixels at 256: the Gaussian the local mean is taken over
TRUNCATE = 2.0  # that Gaussian's reach, in sigmas


def shading_problem(shading) -> str | None:
    """Why ``shading`` cannot be a shading setting, or None when it can (an empty one can)."""
    if not isinstance(shading, (tuple, list)):
        return "must be a list of rows"
    if len(shading) > MAX_COMPONENTS + 1:
        return f"has {len(shading)} rows; at most {MAX_COMPONENTS + 1} (the mean and {MAX_COMPONENTS} directions)"
    for row in shading:
        if not isinstance(row, (tuple, list)) or len(row) != GRID:
            return f"needs rows of {GRID} numbers ({DEPTH_BINS} depths x {ANGLE_BINS} directions)"
        for value in row:
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not np.isfinite(value) or abs(value) > MAX_LOG_GAIN):
                return f"holds {str(value)[:20]!r}; every number must lie between -{MAX_LOG_GAIN:g} and {MAX_LOG_GAIN:g}"
    return None


def as_rows(shading) -> tuple:
    """``shading`` as a tuple of tuples (a model file's JSON gives lists of lists)."""
    return tuple(tuple(row) if isinstance(row, list) else row for row in shading)


def grid_position(fan, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(depth, angle) grid coordinates of every pixel centre, each (H, W) float64, in bins
    with 0 at the first bin's centre (depth from the apex, angle from the left edge)."""
    from ..fan import pixel_centres

    ys, xs = pixel_centres(height, width)
    depth, angle = fan.beam_coordinates(ys, xs, height, width)
    fraction = depth / (fan.depth * height)
    across = (np.degrees(angle) - fan.left) / max(fan.right - fan.left, 1e-9)
    return fraction * DEPTH_BINS - 0.5, across * ANGLE_BINS - 0.5


def grid_cells(fan, height: int, width: int) -> np.ndarray:
    """(H, W) int64 grid cell of every pixel centre (depth-major), -1 outside the grid."""
    rows, cols = grid_position(fan, height, width)
    row, col = np.floor(rows + 0.5).astype(np.int64), np.floor(cols + 0.5).astype(np.int64)
    inside = (row >= 0) & (row < DEPTH_BINS) & (col >= 0) & (col < ANGLE_BINS)
    return np.where(inside, row * ANGLE_BINS + col, -1)


@lru_cache(maxsize=8)
def _coordinates(fan, height: int, width: int) -> np.ndarray:
    """(2, H*W) grid coordinates for one fan, kept for the last few fans (live synthesis
    draws one fan many times)."""
    rows, cols = grid_position(fan, height, width)
    return np.stack([rows.ravel(), cols.ravel()])


def log_gain_grid(shading, seed: int) -> np.ndarray:
    """(DEPTH_BINS, ANGLE_BINS) float64 log-gains a seed draws."""
    rows = np.asarray(shading, dtype=np.float64)
    mean, directions = rows[0], rows[1:]
    coefficients = np.random.default_rng([SEED_SALT, int(seed) & 0xFFFFFFFF]).standard_normal(len(directions))
    values = mean + np.clip(coefficients, -COEFFICIENT_CLIP, COEFFICIENT_CLIP) @ directions
    return values.reshape(DEPTH_BINS, ANGLE_BINS)


def gain_map(fan, shading, seed: int, height: int, width: int) -> np.ndarray:
    """(H, W) float32 grey-level gain of every pixel for one fan and seed."""
    from scipy.ndimage import map_coordinates

    values = map_coordinates(log_gain_grid(shading, seed), _coordinates(fan, height, width), order=1,
                             mode="nearest")
    return np.exp(values.reshape(height, width)).astype(np.float32)


def shade(image: np.ndarray, gain: np.ndarray, mean: np.ndarray, ceiling: float) -> np.ndarray:
    """One (H, W) float32 image of grey levels in [0, 2] (the network's [-1, 1] plus 1) shaded
    by a gain map, given its local mean (the level the speckle varies about): darkening scales the pixel
    (speckle and all, as a shadow dims it); brightening lifts the local mean only, the
    speckle about it kept as it was, and never past ``ceiling`` (a lifted mean stops there, a
    mean already above it is not lifted). Clipped to [0, 2]."""
    lifted = np.minimum(mean * gain, np.maximum(mean, np.float32(ceiling)))
    out = np.where(gain <= 1.0, image * gain, image + (lifted - mean))
    return np.clip(out, 0.0, 2.0)


@lru_cache(maxsize=8)
def _weights(fan, height: int, width: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(the fan's coverage, its Gaussian) as (H, W), kept for the last few fans: what
    :func:`engine.fan.blur_within` reads for the local mean."""
    from scipy.ndimage import gaussian_filter

    from ..fan import fan_alpha

    weight = fan_alpha(fan, height, width).astype(np.float64)
    return weight, gaussian_filter(weight, sigma, truncate=TRUNCATE)


def apply_shading(images: np.ndarray, fans, shading, seeds) -> np.ndarray:
    """(N, C, H, W) float32 images in [-1, 1] shaded (:func:`shade`, the lifted local mean
    stopping at grey level :data:`CEILING`; the local mean is
    :func:`engine.fan.blur_within` the fan's coverage) by image
    i's gain map for its fan and ``seeds[i]``; ``images`` itself for an empty setting or no
    fans."""
    if not shading or fans is None:
        return images
    from ..fan import blur_within

    height, width = images.shape[-2:]
    sigma = SMOOTH * height / 256
    out = np.empty_like(images)
    for i, (fan, seed) in enumerate(zip(fans, seeds)):
        gain = gain_map(fan, shading, seed, height, width)
        weight, spread = _weights(fan, height, width, sigma)
        for c in range(images.shape[1]):
            grey = (images[i, c] + 1.0).astype(np.float32)
            mean = blur_within(grey, weight, sigma, TRUNCATE, spread).astype(np.float32)
            out[i, c] = shade(grey, gain, mean, CEILING / 127.5) - 1.0
    return out
