"""Ring-down: bright and dark arcs across the near field, fixed to the probe, drawn per seed.

Under a real probe the pulse rings and reverberates between the transducer face and the skin
and chest-wall layers, and the near field carries bands along the arcs: concentric bright and
dark rings over the top of the fan, the LV apex included, different from scan to scan. The
bundled model draws the near field without them. Measured on the CAMUS valid split as the mean
grey level of each thin arc (a bin of 0.005 of the fan's depth) minus that profile's smooth
trend (:mod:`engine.evaluation.ring_down_fit`), the bands are 40-50 % stronger in real images
between 0.06 and 0.3 of the depth (9.4 against 6.7 grey levels at 0.06-0.12, 4.7 against 3.1 at
0.12-0.2).

``ring_down`` (in a model's :class:`~engine.nets.GeneratorConfig`) adds them after the network:

- the setting is a tuple of rows of :data:`BINS` numbers, one per arc bin of :data:`BIN` of the
  fan's depth from the apex (so up to :data:`REACH` of the depth), in the image's units (grey
  levels over 127.5); each row is a direction of variation scaled by its spread, fitted as the
  principal directions of what real images' band profiles vary by beyond the model's own;
- a seed draws one standard normal coefficient per row (clipped to
  ±:data:`COEFFICIENT_CLIP`, from its own random stream, so the network's noise is
  unchanged), and the image's profile is the coefficients times the rows;
- each pixel inside the fan has the profile, read linearly at its depth
  (:func:`~.depth_gain.depth_fraction`), added to its grey level (the band lifts or lowers the
  local level, the speckle about it kept); nothing changes beyond :data:`REACH` of the depth
  or outside the fan, and the image is clipped to its range;
- one seed gives one profile, so a cine loop (one seed) keeps its rings where the probe is,
  as a real loop does, and an edited region's redraw keeps them too.

The :class:`~engine.synthesizer.Synthesizer` applies it after the pool detail, before the
shading and the cut to the fan; models without a fan ignore it, and an empty tuple (the
default) changes nothing. ``cardigan tune --fit-ring-down DATA`` fits it.
"""

from __future__ import annotations

import numpy as np

from .fan_split import fan_depth, fan_inside

BIN = 0.005  # of the fan's depth: one arc bin
BINS = 80  # so the profile reaches ...
REACH = BIN * BINS  # ... 0.4 of the depth
MAX_ROWS = 16
MAX_VALUE = 0.5  # |value| of any number in the rows (64 grey levels)
COEFFICIENT_CLIP = 2.5
SEED_SALT = 0x72696E67  # keeps the coefficients' stream apart from the noise map's and the shading's


def ring_problem(rows) -> str | None:
    """Why ``rows`` cannot be a ring-down setting, or None when it can (an empty one can)."""
    if not isinstance(rows, (tuple, list)):
        return "must be a list of rows"
    if len(rows) > MAX_ROWS:
        return f"has {len(rows)} rows; at most {MAX_ROWS}"
    for row in rows:
        if not isinstance(row, (tuple, list)) or len(row) != BINS:
            return f"needs rows of {BINS} numbers (arcs {BIN:g} of the depth apart)"
        for value in row:
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not np.isfinite(value) or abs(value) > MAX_VALUE):
                return f"holds {str(value)[:20]!r}; every number must lie between -{MAX_VALUE:g} and {MAX_VALUE:g}"
    return None


def bin_centres() -> np.ndarray:
    """(BINS,) the depth fraction at the middle of each arc bin."""
    return (np.arange(BINS) + 0.5) * BIN


def ring_profile(rows, seed: int) -> np.ndarray:
    """(BINS,) float64: the band profile a seed draws, in image units."""
    rows = np.asarray(rows, dtype=np.float64)
    coefficients = np.random.default_rng([SEED_SALT, int(seed) & 0xFFFFFFFF]).standard_normal(len(rows))
    return np.clip(coefficients, -COEFFICIENT_CLIP, COEFFICIENT_CLIP) @ rows


def ring_map(fan, rows, seed: int, height: int, width: int) -> np.ndarray:
    """(H, W) float32: what the bands add to each pixel for one fan and seed (0 outside the
    fan and beyond :data:`REACH` of its depth)."""
    inside, _ = fan_inside(fan, height, width)
    depth = fan_depth(fan, height, width)
    profile = ring_profile(rows, seed)
    added = np.interp(depth, bin_centres(), profile, left=profile[0], right=0.0)
    added[depth >= REACH] = 0.0
    return (added * inside).astype(np.float32)


def apply_ring_down(images: np.ndarray, fans, rows, seeds) -> np.ndarray:
    """(N, C, H, W) float images in [-1, 1] with image i's bands for its fan and
    ``seeds[i]`` added; ``images`` itself for an empty setting or no fans."""
    if not rows or fans is None:
        return images
    height, width = images.shape[-2:]
    out = np.empty_like(images)
    for i, (fan, seed) in enumerate(zip(fans, seeds)):
        bands = ring_map(fan, rows, seed, height, width)
        out[i] = np.clip(images[i] + bands[None], -1.0, 1.0)
    return out
