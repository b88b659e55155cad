"""Tip gain: the brightness of the fan's first few pixels below the probe, set after the network.

A phased-array frame is brightest right at the probe: the transducer's ring-down lights the
fan's tip. In the CAMUS train split the brightest pixel within 6 columns of the apex reads
127, 164, 164 and 153 (medians) in the first four rows of a 256 x 256 image; the bundled
model's network fades in over those rows (24, 88, 116, 128). The fan's geometry is the same
(the rows are as wide), so the difference is the drawn brightness, which the depth gain
(:mod:`.depth_gain`, ten points over the whole depth) is far too coarse to follow.

``tip_gain`` (in a model's :class:`~engine.nets.GeneratorConfig`) is a tuple of grey-level
gains at whole pixels of depth from the apex (along the beam, in pixels of the model's output
height: point k at depth k), read linearly between points and 1 beyond the last. A pixel's
grey level (0-255) is multiplied by the gain at its depth and clipped to 255; the outside of
the fan stays black. The :class:`~engine.synthesizer.Synthesizer` applies it with the depth
gain, before the speckle shape; models without a fan ignore it. It is a fixed function of the
fan, so one seed still gives one image. ``cardigan tune --fit-tip-gain DATA`` fits it on a
prepared dataset's valid split (:mod:`engine.evaluation.tip_fit`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MAX_POINTS = 16
MIN_GAIN, MAX_GAIN = 0.25, 8.0


def tip_problem(gains) -> str | None:
    """Why ``gains`` cannot be a tip gain, or None when it can (an empty one can)."""
    if not isinstance(gains, (tuple, list)):
        return "must be a list of gains"
    if len(gains) > MAX_POINTS:
        return f"has {len(gains)} points; at most {MAX_POINTS}"
    for g in gains:
        if isinstance(g, bool) or not isinstance(g, (int, float)) or not np.isfinite(g):
            return "must hold finite numbers only"
        if not MIN_GAIN <= g <= MAX_GAIN:
            return f"holds {g:g}; gains must lie between {MIN_GAIN:g} and {MAX_GAIN:g}"
    return None


@lru_cache(maxsize=8)
def tip_map(fan, gains: tuple, height: int, width: int) -> np.ndarray:
    """(H, W) float32 gain of every pixel of one fan's picture (1 beyond the last point)."""
    from ..fan import pixel_depth

    points = np.asarray(gains, dtype=np.float64)
    return np.interp(pixel_depth(fan, height, width), np.arange(len(points)), points, right=1.0).astype(np.float32)


def apply_tip_gain(images: np.ndarray, fans, gains) -> np.ndarray:
    """(N, C, H, W) float images in [-1, 1] with the tip gain of each one's fan; ``images``
    itself for no gains or no fans."""
    if not gains or fans is None:
        return images
    gains = tuple(float(g) for g in gains)
    height, width = images.shape[-2:]
    maps = np.stack([tip_map(fan, gains, height, width) for fan in fans])[:, None]
    return np.clip((images + 1.0) * maps - 1.0, -1.0, 1.0).astype(images.dtype)
