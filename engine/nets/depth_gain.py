"""Depth gain: a grey-level gain that changes with depth in the fan, calibrated against real
images (a scanner's time-gain compensation, fixed).

A fan model can learn the image's overall grey levels and still get their fall-off with depth
wrong: stage 6 of the bundled model, before its depth gain, drew the near field about 20 %
brighter than CAMUS and the far field about 5 % darker, everywhere, whatever the mask. ``depth_gain`` (in a model's
:class:`~engine.nets.GeneratorConfig`) corrects that after the network:

- the gains are given at :func:`gain_depths` (evenly spaced bin centres over the fan's depth,
  0 at the apex and 1 on the arc straight down) and interpolated linearly between them,
  constant beyond the first and the last;
- depth is measured on the fan's arcs (:meth:`engine.fan.Fan.beam_coordinates`), so one arc
  gets one gain, as a scanner's gain control gives one depth one gain;
- a pixel's grey level is multiplied by its gain and clipped to white; black stays black;
- it is applied by the :class:`~engine.synthesizer.Synthesizer` after the output tone and the
  pixel grain, before the image is cut to its fan; models without a fan ignore it, and an
  empty tuple (the default) changes nothing;
- it is one curve for every image, not a value per label, so no mask border is drawn into
  the picture. ``cardigan tune --fit-depth-gain DATA`` fits it on a prepared dataset's valid
  split, darkening only (:mod:`engine.evaluation.depth_fit`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MAX_GAINS = 32  # points a curve may have
MIN_GAIN, MAX_GAIN = 0.25, 4.0


def gain_depths(count: int) -> np.ndarray:
    """The depths (fractions of the fan's depth) at which ``count`` gains apply: the centres
    of ``count`` equal bins from the apex to the arc."""
    return (np.arange(count, dtype=np.float64) + 0.5) / count


def depth_fraction(fan, height: int, width: int) -> np.ndarray:
    """(H, W) depth of every pixel centre on the fan's arcs, as a fraction of its depth."""
    from ..fan import pixel_depth

    return pixel_depth(fan, height, width) / (fan.depth * height)


def gain_map(fan, gains, height: int, width: int) -> np.ndarray:
    """(H, W) float32 gain of every pixel for one fan."""
    gains = np.asarray(gains, dtype=np.float64)
    return np.interp(depth_fraction(fan, height, width), gain_depths(len(gains)), gains).astype(np.float32)


@lru_cache(maxsize=8)
def _cached_map(fan, gains: tuple, height: int, width: int) -> np.ndarray:
    """:func:`gain_map`, kept for the last few fans (live synthesis draws one fan many times)."""
    return gain_map(fan, gains, height, width)


def gains_problem(gains, low: float = MIN_GAIN, high: float = MAX_GAIN) -> str | None:
    """Why ``gains`` cannot be a curve of gains between ``low`` and ``high`` (a depth-gain curve
    by default), or None when it can (an empty one can)."""
    if not isinstance(gains, (tuple, list)):
        return "must be a list of numbers"
    if len(gains) > MAX_GAINS:
        return f"has {len(gains)} points; at most {MAX_GAINS}"
    for value in gains:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            return f"holds {str(value)[:20]!r}; every gain must be a number between {low:g} and {high:g}"
    return None


def apply_depth_gain(images: np.ndarray, fans, gains) -> np.ndarray:
    """(N, C, H, W) float images in [-1, 1] with each one's grey levels times its fan's gain
    map, clipped to white; ``images`` itself for an empty curve or no fans."""
    if not gains or fans is None:
        return images
    height, width = images.shape[-2:]
    maps = np.stack([_cached_map(fan, tuple(gains), height, width) for fan in fans])[:, None]
    return (np.minimum((images + 1) * maps, 2.0) - 1).astype(images.dtype)
