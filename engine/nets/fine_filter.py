"""Fine filter: the finest speckle's spectrum matched to real images, after the network.

The network's detail is spread too evenly over the finest frequencies: the bundled model
holds more power right at the pixel limit and less just below it than a CAMUS frame does,
and as much from column to column as from row to row, where a CAMUS frame's finest detail
runs down the picture, along the beam (evaluate's finest octave: falloff to the pixel limit
-0.96 against real -1.33, vertical over horizontal 1.57 against 2.15, valid split). A reader
who measures the spectrum of the fan's windows tells the two sets apart on that alone.

``fine_filter`` (in a model's :class:`~engine.nets.GeneratorConfig`) is a small square
kernel, odd-sized, at most :data:`MAX_SIZE` wide, that reshapes the detail:

- the image inside its fan is split into a smooth part and its detail as the speckle shape
  splits it (:mod:`.speckle_shape`: a Gaussian blur of sigma ``SPLIT`` within the fan);
- the detail, zero outside the fan, is correlated with the kernel and added back to the
  smooth part, so the image's coarse content is untouched (the kernel changes only what the
  blur leaves out, plus a little of what it keeps where the kernel's sum is not 1);
- as with the speckle shape, pixels within ``EDGE_FADE`` of the fan's edge blend back to the
  image as it was, and the outside of the fan is left alone for the fan's cut.

It is a fixed, local function of the output (a pixel reads at most the kernel's half width
plus four blur widths around it): one seed still gives one image, an edited region changes
only its surroundings, and a cine loop's frames are filtered alike. The
:class:`~engine.synthesizer.Synthesizer` applies it after the speckle shape, before the
shading; models without it are unchanged, models without a fan ignore it.
``cardigan tune --fit-fine-filter DATA`` fits it on a prepared dataset's valid split
(:mod:`engine.evaluation.fine_filter_fit`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .fan_split import fan_inside

MAX_SIZE = 9  # the widest kernel a model may carry
MAX_TAP = 2.0  # no tap beyond this either way
SUM_RANGE = (0.5, 2.0)  # the kernel's sum: how much of the detail it keeps at the lowest frequencies


def filter_problem(kernel) -> str | None:
    """Why ``kernel`` cannot be a fine filter, or None when it can (an empty one can)."""
    if not isinstance(kernel, (tuple, list)):
        return "must be a square list of rows of numbers"
    if not kernel:
        return None
    size = len(kernel)
    if size % 2 == 0 or size > MAX_SIZE:
        return f"has {size} rows; it must have an odd number, at most {MAX_SIZE}"
    for row in kernel:
        if not isinstance(row, (tuple, list)) or len(row) != size:
            return f"must be square: {size} rows of {size} numbers"
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) for v in row):
            return "must hold finite numbers only"
        if any(abs(v) > MAX_TAP for v in row):
            return f"has a tap beyond {MAX_TAP:g} either way"
    total = float(np.sum(np.asarray(kernel, dtype=np.float64)))
    if not SUM_RANGE[0] <= total <= SUM_RANGE[1]:
        return f"sums to {total:.3g}; its sum must lie between {SUM_RANGE[0]:g} and {SUM_RANGE[1]:g}"
    return None


def as_kernel(value) -> tuple:
    """A kernel as given (lists from a model file's JSON) -> a tuple of float tuples."""
    return tuple(tuple(float(v) for v in row) for row in value)


@lru_cache(maxsize=8)
def _edge_blend(fan, height: int, width: int) -> np.ndarray:
    """(H, W): 0 at the fan's edge rising to 1 inside it, over :data:`~.speckle_shape.EDGE_FADE`."""
    from ..fan import edge_distance
    from .speckle_shape import EDGE_FADE

    near, far = EDGE_FADE
    return np.clip((edge_distance(fan, height, width) - near) / (far - near), 0.0, 1.0)


def filter_one(image: np.ndarray, fan, kernel: np.ndarray) -> np.ndarray:
    """One (H, W) float image in [-1, 1] with its detail filtered (see the module)."""
    from scipy import ndimage

    from ..fan import blur_within
    from .speckle_shape import SPLIT

    height, width = image.shape
    inside, inside_blur = fan_inside(fan, height, width)
    blend = _edge_blend(fan, height, width)
    picture = image.astype(np.float64)
    smooth = blur_within(picture, inside, SPLIT, inside_blur=inside_blur)
    detail = (picture - smooth) * inside
    filtered = smooth + ndimage.correlate(detail, kernel, mode="constant")
    out = np.where(inside > 0, blend * filtered + (1 - blend) * picture, picture)
    return np.clip(out, -1.0, 1.0).astype(image.dtype)


def apply_fine_filter(images: np.ndarray, fans, kernel) -> np.ndarray:
    """(N, C, H, W) float images in [-1, 1] with each one's detail filtered in its fan;
    ``images`` itself for an empty kernel or no fans."""
    if not kernel or fans is None:
        return images
    taps = np.asarray(as_kernel(kernel), dtype=np.float64)
    out = np.empty_like(images)
    for i, fan in enumerate(fans):
        for c in range(images.shape[1]):
            out[i, c] = filter_one(images[i, c], fan, taps)
    return out
