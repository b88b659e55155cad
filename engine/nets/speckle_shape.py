"""Speckle shape: the fine texture's size along and across the beam, set by depth after the
network, calibrated against real images.

A B-mode image's speckle is as long as the pulse along the beam and as wide as the beam
across it, and the beam widens with depth: in CAMUS frames the grain is round near the probe
and drawn out along the arcs deep down (in the CAMUS valid split at 256x256, a pixel's
speckle correlates 0.5 with its neighbour across the beam near the probe and 0.88 at the arc,
0.5 to 0.35 with its neighbour along the beam). A generator fed
noise that changes at every pixel of depth (:mod:`.beam`) draws grain one pixel tall at every
depth, which reads as dashes: the bundled model's correlate 0.12-0.15 along the beam in the
top two fifths of the fan. ``speckle_shape`` (in a model's
:class:`~engine.nets.GeneratorConfig`) reshapes it:

- the image inside its fan is split into a smooth part (a Gaussian blur of sigma
  :data:`SPLIT` pixels, taken within the fan: the blur of image x fan over the blur of the
  fan) and the fine rest, the speckle;
- the speckle is averaged along the beam (the line towards the apex, axial) and then across
  it (along the arc, lateral), each with Gaussian weights at whole-pixel steps up to
  :data:`RADIUS` pixels either side, sampled bilinearly, of the widths the curve gives at the
  pixel's depth; pixels outside the fan do not count;
- the result is multiplied by the curve's gain at that depth (averaging makes the speckle
  fainter; the gain gives back its contrast) and added back to the smooth part;
- the curve is a tuple of (axial sigma, lateral sigma, gain) triples, sigmas in pixels of the
  model's output size, at :func:`~engine.nets.depth_gain.gain_depths` (evenly spaced depths
  of the fan), interpolated linearly between them and constant beyond; a sigma of
  :data:`MIN_SIGMA` or less leaves that direction as it was, so (0, 0, 1) everywhere changes
  nothing;
- it fades out towards the fan's edge: pixels beyond :data:`EDGE_FADE` [1] from it are
  reshaped, pixels within :data:`EDGE_FADE` [0] keep the network's texture, with a linear
  blend between. The bundled model's speckle along the fan's sides already reaches too far
  along the beam (evaluate's edge band: 0.55 two pixels along, real 0.41); reshaped there it
  reached 0.63;
- directions and depths come from the fan's own beam coordinates
  (:meth:`engine.fan.Fan.beam_coordinates`), so a tilted or squashed fan is followed.

It is a fixed, local function of the output (a pixel reads at most 2 :data:`RADIUS` plus
four blur widths around it): one seed still gives one image, an edited region changes only its
surroundings, and the outside of the fan stays black. The
:class:`~engine.synthesizer.Synthesizer` applies it after the depth gain, before the image is
cut to its fan; models without a fan ignore it. ``cardigan tune --fit-speckle-shape DATA``
fits it on a prepared dataset's valid split (:mod:`engine.evaluation.speckle_fit`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..fan import blur_within, pixel_centres
from .depth_gain import gain_map

SPLIT = 2.0  # pixels: the blur that separates the smooth image from its speckle
RADIUS = 3  # pixels: the averaging window's half width
EDGE_FADE = (4.0, 8.0)  # pixels from the fan's edge: reshaped from the second on, as drawn within the first
MIN_SIGMA = 0.05  # a width at or below this leaves its direction unchanged
MAX_SIGMA = 3.0
MIN_GAIN, MAX_GAIN = 0.25, 4.0
MAX_POINTS = 32


def shape_problem(shape) -> str | None:
    """Why ``shape`` cannot be a speckle-shape curve, or None when it can (an empty one can)."""
    if not isinstance(shape, (tuple, list)):
        return "must be a list of (axial sigma, lateral sigma, gain) triples"
    if len(shape) > MAX_POINTS:
        return f"has {len(shape)} points; at most {MAX_POINTS}"
    for point in shape:
        if not isinstance(point, (tuple, list)) or len(point) != 3:
            return f"holds {str(point)[:30]!r}; every point must be (axial sigma, lateral sigma, gain)"
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in point):
            return f"holds {str(point)[:30]!r}; every value must be a number"
        axial, lateral, gain = point
        if not (0 <= axial <= MAX_SIGMA and 0 <= lateral <= MAX_SIGMA):
            return f"holds {str(point)[:30]!r}; sigmas must lie between 0 and {MAX_SIGMA:g} pixels"
        if not MIN_GAIN <= gain <= MAX_GAIN:
            return f"holds {str(point)[:30]!r}; gains must lie between {MIN_GAIN:g} and {MAX_GAIN:g}"
    return None


def as_shape(value) -> tuple:
    """A curve as given (lists from a model file's JSON) -> a tuple of float triples."""
    return tuple(tuple(float(v) for v in point) for point in value)


def line_average(direction: np.ndarray, sigma: np.ndarray, inside: np.ndarray):
    """The (H*W, H*W) sparse matrix that averages an image along ``direction`` (2, H, W) at
    every pixel with Gaussian weights of width ``sigma`` (H, W) pixels, sampled bilinearly at
    whole-pixel steps up to :data:`RADIUS`, over pixels inside the fan only (each row sums
    to 1; a pixel outside the fan, or with ``sigma`` at most :data:`MIN_SIGMA`, keeps its value)."""
    from scipy import sparse

    height, width = sigma.shape
    size = height * width
    rows, cols, vals = [], [], []
    here = np.arange(size)
    ys, xs = np.divmod(here, width)
    keep = (sigma.ravel() > MIN_SIGMA) & (inside.ravel() > 0)
    safe = np.maximum(sigma.ravel(), MIN_SIGMA)
    for t in range(-RADIUS, RADIUS + 1):
        tap = np.exp(-0.5 * (t / safe) ** 2)
        if t:
            tap = np.where(keep, tap, 0.0)
        y = ys + t * direction[0].ravel()
        x = xs + t * direction[1].ravel()
        y0, x0 = np.floor(y), np.floor(x)
        fy, fx = y - y0, x - x0
        for cy, cx, w in ((y0, x0, (1 - fy) * (1 - fx)), (y0 + 1, x0, fy * (1 - fx)),
                          (y0, x0 + 1, (1 - fy) * fx), (y0 + 1, x0 + 1, fy * fx)):
            ok = (cy >= 0) & (cy < height) & (cx >= 0) & (cx < width) & (w * tap > 1e-6)
            index = (cy[ok] * width + cx[ok]).astype(np.int64)
            ok_rows = here[ok]
            weight = (w * tap)[ok] * inside.ravel()[index]
            if not t:  # the centre tap counts even outside the fan: a row never sums to 0
                weight = np.where(index == ok_rows, np.maximum(weight, 1e-6), weight)
            rows.append(ok_rows)
            cols.append(index)
            vals.append(weight)
    matrix = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(size, size))
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    return (sparse.diags(1.0 / np.maximum(totals, 1e-12)) @ matrix).astype(np.float32).tocsr()


@lru_cache(maxsize=8)
def _cached(fan, shape: tuple, height: int, width: int):
    """(axial pass, lateral pass, gain, inside, blend) for one fan: live synthesis draws one
    fan many times."""
    from ..fan import edge_distance, fan_mask

    inside = fan_mask(fan, height, width).astype(np.float32)
    ys, xs = pixel_centres(height, width)
    axial, lateral = fan.beam_axes(ys, xs, height, width)
    points = np.asarray(shape, dtype=np.float64)
    along = line_average(axial, gain_map(fan, points[:, 0], height, width), inside)
    across = line_average(lateral, gain_map(fan, points[:, 1], height, width), inside)
    near, far = EDGE_FADE
    blend = np.clip((edge_distance(fan, height, width) - near) / (far - near), 0.0, 1.0).astype(np.float32)
    return along, across, gain_map(fan, points[:, 2], height, width), inside, blend


def shape_one(image: np.ndarray, fan, shape: tuple) -> np.ndarray:
    """One (H, W) float image in [-1, 1] with its speckle reshaped (see the module)."""
    height, width = image.shape
    along, across, gain, inside, blend = _cached(fan, shape, height, width)
    picture = image.astype(np.float32)
    smooth = blur_within(picture, inside, SPLIT).astype(np.float32)
    speckle = ((picture - smooth) * inside).ravel()
    shaped = smooth + gain * (across @ (along @ speckle)).reshape(height, width)
    return np.clip(np.where(inside > 0, blend * shaped + (1 - blend) * picture, picture), -1.0, 1.0)


def apply_speckle_shape(images: np.ndarray, fans, shape) -> np.ndarray:
    """(N, C, H, W) float images in [-1, 1] with each one's speckle reshaped for its fan;
    ``images`` itself for an empty curve or no fans."""
    if not shape or fans is None:
        return images
    shape = as_shape(shape)
    out = np.empty_like(images)
    for i, fan in enumerate(fans):
        for c in range(images.shape[1]):
            out[i, c] = shape_one(images[i, c], fan, shape)
    return out
