"""Border softening: the edges the network draws on the mask's borders, faded in patches.

An expert's contour lies near an edge of a real echocardiogram, not on a line the scanner
drew: the endocardium is a ramp of trabeculae, the atrium's wall is thin and fades into the
tissue around it, and stretches of any wall drop out where the beam meets it at a glancing
angle. A generator that switches its style at the label border draws the border itself, one
even bright line all round; readers name it first ("chamber borders drawn as thin,
continuous bright lines", "the atrium ringed by a neat rim"). :mod:`engine.evaluation.borders`
measures it: on the CAMUS valid split the gradient within 2 px of the LA's borders is 1.10
(background) and 1.07 (myocardium) times the gradient 5-10 px away in real images, 1.25 and
1.22 in the bundled model's.

``border_soften`` (in a model's :class:`~engine.nets.GeneratorConfig`) fades those edges after
the network. It holds one strength per border of :data:`~engine.evaluation.borders.BORDERS`
(LV/myocardium, myocardium/background, LA/background, LV/LA, myocardium/LA):

- each border's pixels (either side of it) are blurred by a Gaussian of :data:`WIDTH` pixels
  and scaled so a straight border reads 1 on it; the strengths weight and sum these bands;
- a seed draws a smooth random field (white noise under a Gaussian of :data:`PATCH` pixels,
  unit spread) and the band is multiplied by ``clip(0.5 + 0.5 field, 0, 1)``: the edge fades
  in patches and stays in others, as real walls come and go; the sum is clipped to [0, 1];
- where that weight is w, the image loses w times its structure between the scales of a
  sigma :data:`FINE` and a sigma :data:`COARSE` blur within the fan (:func:`engine.fan.blur_within`):
  the drawn line, and not the finest speckle or the region's grey level.

Sizes are in pixels at 256 and scale with the image. Only the heart's bounding box (grown by
the blurs' reach) is computed. One seed gives one patch field, so a cine loop's borders move
through fixed patches as walls move through a probe's dropout. Models without a fan ignore it,
and an empty tuple (the default) changes nothing. ``cardigan tune --fit-border-soften DATA``
fits it (:mod:`engine.evaluation.border_soften_fit`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..labels import BACKGROUND

BORDER_PAIRS = ((1, 2), (2, 0), (3, 0), (1, 3), (2, 3))  # engine.evaluation.borders.BORDERS, in order
MAX_STRENGTH = 4.0
WIDTH = 1.5  # pixels at 256: the Gaussian a border's band is drawn with
PATCH = 8.0  # pixels at 256: the size of the patches the edges fade in
FINE, COARSE = 1.0, 3.0  # pixels at 256: the structure between these two blurs is what fades
SEED_SALT = 0x626F7264  # keeps the patches' stream apart from the noise map's and the other settings'


def soften_problem(strengths) -> str | None:
    """Why ``strengths`` cannot be a border-softening setting, or None when it can (empty can)."""
    if not isinstance(strengths, (tuple, list)):
        return "must be a list of numbers"
    if strengths and len(strengths) != len(BORDER_PAIRS):
        return f"needs {len(BORDER_PAIRS)} strengths (LV/myo, myo/bg, LA/bg, LV/LA, myo/LA) or none"
    for value in strengths:
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value)
                or not 0.0 <= value <= MAX_STRENGTH):
            return f"holds {str(value)[:20]!r}; every strength must lie between 0 and {MAX_STRENGTH:g}"
    return None


@lru_cache(maxsize=4)
def _line_peak(width: float) -> float:
    """The blurred band's value on a straight border (two pixels wide, one either side)."""
    from scipy import ndimage

    size = int(np.ceil(4 * width)) * 2 + 2
    line = np.zeros((size, size))
    line[:, size // 2 - 1:size // 2 + 1] = 1.0
    return float(ndimage.gaussian_filter(line, width)[size // 2, size // 2])


def border_band(labels: np.ndarray, strengths, width: float) -> np.ndarray:
    """(H, W) float64: the strengths' sum of each border's blurred band (1 on a straight border
    of strength 1)."""
    from scipy import ndimage

    out = np.zeros(labels.shape)
    peak = _line_peak(width)
    regions, grown = {}, {}  # each label's pixels and their one-pixel growth, made once per call
    for (first, second), strength in zip(BORDER_PAIRS, strengths):
        if not strength:
            continue
        for value in (first, second):
            if value not in regions:
                regions[value] = labels == value
                grown[value] = ndimage.binary_dilation(regions[value]) if regions[value].any() else regions[value]
        a, b = regions[first], regions[second]
        if not a.any() or not b.any():
            continue
        pixels = (a & grown[second]) | (b & grown[first])
        if pixels.any():
            out += strength * np.minimum(ndimage.gaussian_filter(pixels.astype(np.float64), width) / peak, 1.0)
    return out


@lru_cache(maxsize=8)
def patches(seed: int, shape: tuple[int, int], size: float) -> np.ndarray:
    """(H, W) in [0, 1]: the seed's patch field, ``clip(0.5 + 0.5 field, 0, 1)``; kept for the
    last few seeds (live synthesis draws one seed many times)."""
    from scipy import ndimage

    field = ndimage.gaussian_filter(
        np.random.default_rng([SEED_SALT, int(seed) & 0xFFFFFFFF]).standard_normal(shape), size)
    return np.clip(0.5 + 0.5 * field / max(float(field.std()), 1e-12), 0.0, 1.0)


def soften_one(image: np.ndarray, labels: np.ndarray, fan, strengths, seed: int) -> np.ndarray:
    """One (H, W) float image in [-1, 1] with its drawn borders faded (see the module)."""
    from ..fan import blur_within
    from .fan_split import fan_inside

    height, width = image.shape
    scale = width / 256.0
    heart = labels != BACKGROUND
    if not heart.any():
        return image
    rows, cols = np.nonzero(heart)
    reach = int(np.ceil(4 * max(COARSE, WIDTH) * scale)) + 2
    box = (slice(max(rows.min() - reach, 0), min(rows.max() + reach + 1, height)),
           slice(max(cols.min() - reach, 0), min(cols.max() + reach + 1, width)))
    weight = border_band(labels[box], strengths, WIDTH * scale)
    if not weight.any():
        return image
    full = patches(int(seed), (height, width), PATCH * scale)  # drawn over the picture: a box's patches never move
    weight = np.clip(weight * full[box], 0.0, 1.0)
    inside = fan_inside(fan, height, width)[0][box]
    picture = image[box].astype(np.float64)
    fine = blur_within(picture, inside, FINE * scale)
    coarse = blur_within(picture, inside, COARSE * scale)
    out = image.copy()
    out[box] = np.clip(np.where(inside > 0, picture + weight * (coarse - fine), picture), -1.0, 1.0)
    return out


def apply_border_soften(images: np.ndarray, labels: np.ndarray, fans, strengths, seeds) -> np.ndarray:
    """(N, C, H, W) float images in [-1, 1], their label maps (N, H, W) at the same size, with
    image i's drawn borders faded in ``seeds[i]``'s patches; ``images`` itself for an empty
    setting or no fans."""
    if not strengths or fans is None or not any(strengths):
        return images
    out = np.empty_like(images)
    for i, (fan, seed) in enumerate(zip(fans, seeds)):
        for c in range(images.shape[1]):
            out[i, c] = soften_one(images[i, c], labels[i], fan, strengths, seed)
    return out
