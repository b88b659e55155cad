"""A steady loop: brightness that does not jump from one frame to the next.

The generator reads the whole mask at once, so a wall that moves by a pixel can change how
bright it draws tissue far from that wall, or a whole chamber. Between neighbouring frames of a
loop the far field (background more than :data:`~.measures.FAR_CLEARANCE` pixels from the
heart) then brightened or darkened in patches tens of pixels wide: with the bundled model, on
five shape-model loops of 32 frames, the worst frame pair changed the far field's σ 4 blur by
11 grey levels (median over the loops; 22 in one), as much as drawing the next frame with a
fresh seed does (13). Chambers flash the same way (one loop's left atrium: its mean grey 18
levels apart in two neighbouring frames). A scan does not do that: tissue keeps its echo
strength from frame to frame, and only its speckle moves or, in the blood, renews.

:func:`steady_loop` changes only each frame's brightness, its blur of σ :data:`SIGMA` (read
only inside the picture's support); the detail finer than that, the speckle carried with the
tissue or drawn afresh in the pools, stays each frame's own. In three steps:

1. :func:`steady_far_field`: the far field's brightness is set to the first frame's, carried
   to the frame with the tissue's motion as the noise map is (:func:`.motion.warp_nearest`),
   with a weight 0 within :data:`NEAR` pixels of the heart, rising to 1 at :data:`FAR`;
2. :func:`smooth_brightness`: every frame's brightness becomes the Gaussian average (σ
   :data:`TIME_SIGMA` frames, :data:`TIME_REACH` either side: :func:`time_window`) of its own
   and its neighbours', each neighbour's moved to the frame along the motion. A change that
   alternates from frame to frame is removed; one that goes steadily one way (a wall moving at
   constant speed) is kept exactly; one that comes for good between two frames is spread over
   several. That last was the generator's: sampling the label map every 32, 16 and 8 pixels
   at its coarse levels, an outline crossing one sample changed a patch tens of pixels wide
   at once, even in diastasis. A loop's frames between its key frames now give those levels
   soft labels (:mod:`engine.soft_labels`), which leaves such a step a few grey levels; what
   is left of it this window spreads (a window of three frames halves a step between two
   frames; this one leaves a fifth). With soft labels a window of σ 1 frame steadies a loop
   as well as this one did without them, but not better than this one with them.
   A loop of the whole cycle wraps round; a half cycle's window shrinks near its ends, its last
   frame counting itself as its next.
3. :func:`steady_chambers`: each region's (LV cavity, myocardium, left atrium) mean grey level
   is made to follow the heart's phase in a straight line from the first frame's: the line
   through the first frame's mean that fits every frame's best (least squares in phase), each
   frame's region scaled to it (by at most :data:`MAX_GAIN` either way) through a soft weight
   (the region blurred by :data:`REGION_SOFTNESS`). Step 2 spreads a change that lasts one
   frame; a chamber that brightens over several frames and dims again (the atrium as it
   nears the fan's arc) is what this step removes, while a chamber that brightens steadily
   towards ES keeps doing so.

All three leave the picture's last pixel before its edge (the fan's cut) as drawn, rising to
full weight :data:`EDGE` pixels further in (distances at 256; in proportion for other sizes),
never touch the outside of the support, and keep the first frame exactly, so a loop still
starts on the still image of its seed. A frame on ES has the ES key frame's speckle
(:func:`.motion.key_frame_noise`) and, like every frame, the steadied brightness.
:func:`hold_far_field` applies step 1 to one image beside another of the same scan: the studio
shows the ES key frame's still with the ED one's far field, as the loop draws it.
"""

from __future__ import annotations

import numpy as np

from ..labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from .measures import distance_from_heart, distance_inside
from .motion import warp_nearest

SIGMA = 4.0  # pixels at 256: the blur that holds the brightness; finer detail is left as drawn
NEAR, FAR = 4.0, 12.0  # pixels at 256 from the heart: the far-field weight rises from 0 to 1 between them
EDGE = 2.0  # pixels at 256: the weight rises from 0 one pixel inside the picture's edge over this
REGION_SOFTNESS = 2.0  # pixels at 256: the σ that spreads a region's gain over its border
REGION_CORE = 3  # pixels at 256 inside a region: where its mean grey level is read
MAX_GAIN = 1.25  # the most a region is brightened (or dimmed by its inverse) in one frame
MIN_CORE_PIXELS = 20  # a region with fewer core pixels in a frame is not read there
CHAMBERS = (LV_CAVITY, MYOCARDIUM, LEFT_ATRIUM)
TIME_SIGMA = 2.0  # frames: the Gaussian that step 2 averages each frame's brightness over ...
TIME_REACH = 4  # ... cut at this many frames either side


def far_weight(mask: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(H, W) float in [0, 1]: 0 on and within ``NEAR * scale`` pixels of the heart (any
    label but background), 1 beyond ``FAR * scale``, linear between."""
    distance = distance_from_heart(mask)
    near, far = NEAR * scale, FAR * scale
    return np.clip((distance - near) / (far - near), 0.0, 1.0)


class _Brightness:
    """The blur of σ :data:`SIGMA` within a loop's support, and the weight the support's edge
    allows, for (T, H, W) images."""

    def __init__(self, images: np.ndarray, support: np.ndarray | None) -> None:
        from scipy import ndimage

        self.scale = images.shape[2] / 256.0
        self.sigma = SIGMA * self.scale
        self.support = (images > 0).any(axis=0) if support is None else np.asarray(support, bool)
        distance = distance_inside(self.support)
        self.inner = np.clip((distance - 1.0) / (EDGE * self.scale), 0.0, 1.0)
        self.support_blur = ndimage.gaussian_filter(self.support.astype(np.float64), self.sigma, truncate=4.0)

    def __call__(self, picture: np.ndarray) -> np.ndarray:
        from ..fan import blur_within

        return blur_within(picture, self.support, self.sigma, inside_blur=self.support_blur)

    def weight(self, image: np.ndarray) -> np.ndarray:
        """Where ``image`` (one frame) may change: inside the support, away from its edge, lit."""
        return self.inner * (image > 0)


def _rounded(pictures: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(pictures), 0, 255).astype(np.uint8)


def steady_far_field(images: np.ndarray, masks: np.ndarray, field: np.ndarray,
                     phases: np.ndarray, support: np.ndarray | None = None,
                     brightness: _Brightness | None = None) -> np.ndarray:
    """(T, H, W) uint8 ``images`` of a loop with the far field's brightness held at the first
    frame's (step 1 of the module text); ``masks`` (T, H, W) the frames' labels, ``field``
    (H, W, 2) the loop's ED -> ES displacement at the images' size, ``phases`` (T,) each
    frame's phase; ``support`` (H, W) bool, the picture's support (the fan's mask for a model
    given the fan), by default every pixel lit in some frame; ``brightness`` the blur built for
    these images already (:func:`steady_loop` builds it once for both steps)."""
    if len(images) < 2:
        return images
    brightness = _Brightness(images, support) if brightness is None else brightness
    pictures = images.astype(np.float64)
    reference = brightness(pictures[0])
    out = images.copy()
    for t in range(1, len(images)):
        weight = far_weight(masks[t], brightness.scale) * brightness.weight(images[t])
        if not weight.any():
            continue
        carried = warp_nearest(reference, field, float(phases[t])) if phases[t] else reference
        out[t] = _rounded(pictures[t] + weight * (carried - brightness(pictures[t])))
    return out


def time_window(t: int, frames: int, closed: bool) -> tuple[list[int], np.ndarray]:
    """(frames, weights summing to 1) that frame ``t``'s brightness is averaged over: a Gaussian
    of σ :data:`TIME_SIGMA` frames, cut at :data:`TIME_REACH` frames either side. A whole
    cycle wraps round (no frame twice); a half cycle's window shrinks near its ends to stay
    symmetric, its last frame counting itself as its next."""
    if closed:
        reach = min(TIME_REACH, (frames - 1) // 2)
    else:
        reach = min(TIME_REACH, t, max(1, frames - 1 - t))
    offsets = np.arange(-reach, reach + 1)
    weights = np.exp(-0.5 * (offsets / TIME_SIGMA) ** 2)
    index = (t + offsets) % frames if closed else np.minimum(t + offsets, frames - 1)
    return [int(i) for i in index], weights / weights.sum()


def smooth_brightness(images: np.ndarray, field: np.ndarray, phases: np.ndarray,
                      closed: bool = True, support: np.ndarray | None = None,
                      brightness: _Brightness | None = None) -> np.ndarray:
    """(T, H, W) uint8 ``images`` with each frame's brightness averaged with its neighbours'
    along the motion (step 2 of the module text, over :func:`time_window`); ``closed``: the
    loop is a whole cycle (its last frame's next is the first)."""
    frames = len(images)
    if frames < 2:
        return images
    brightness = _Brightness(images, support) if brightness is None else brightness
    pictures = images.astype(np.float64)
    own = np.stack([brightness(picture) for picture in pictures])
    out = images.copy()
    for t in range(1, frames):
        smooth = np.zeros(images.shape[1:])
        for s, weight in zip(*time_window(t, frames, closed)):
            # pixel x of frame t shows the tissue that frame s shows near x + (p_t - p_s) field(x)
            smooth += weight * (own[s] if s == t else warp_nearest(own[s], field, float(phases[t] - phases[s])))
        out[t] = _rounded(pictures[t] + brightness.weight(images[t]) * (smooth - own[t]))
    return out


def _region_means(images: np.ndarray, masks: np.ndarray, label: int, scale: float) -> np.ndarray:
    """(T,) each frame's mean grey level :data:`REGION_CORE` pixels inside ``label``'s region,
    NaN where fewer than :data:`MIN_CORE_PIXELS` lit pixels are left."""
    from scipy import ndimage

    iterations = max(1, round(REGION_CORE * scale))
    means = np.full(len(images), np.nan)
    for t, (image, mask) in enumerate(zip(images, masks)):
        core = ndimage.binary_erosion(mask == label, iterations=iterations) & (image > 0)
        if core.sum() >= MIN_CORE_PIXELS:
            means[t] = float(image[core].mean())
    return means


def phase_line(means: np.ndarray, phases: np.ndarray) -> np.ndarray | None:
    """(T,) the straight line in phase through ``means[0]`` that fits the finite ``means``
    best (least squares); None where the first frame's mean or every later one is missing."""
    phases = np.asarray(phases, np.float64)
    known = np.isfinite(means) & (phases > 0)
    if not np.isfinite(means[0]) or not known.any():
        return None
    slope = float(np.sum(phases[known] * (means[known] - means[0])) / np.sum(phases[known] ** 2))
    return means[0] + slope * phases


def steady_chambers(images: np.ndarray, masks: np.ndarray, phases: np.ndarray,
                    support: np.ndarray | None = None,
                    brightness: _Brightness | None = None) -> np.ndarray:
    """(T, H, W) uint8 ``images`` with each region's mean grey level following the heart's
    phase in a straight line (step 3 of the module text); the first frame is kept."""
    from scipy import ndimage

    if len(images) < 2:
        return images
    brightness = _Brightness(images, support) if brightness is None else brightness
    pictures = images.astype(np.float64)
    gains = np.ones((len(CHAMBERS), len(images)))
    for row, label in enumerate(CHAMBERS):
        means = _region_means(pictures, masks, label, brightness.scale)
        line = phase_line(means, phases)
        if line is None:
            continue
        found = np.isfinite(means) & (means > 0)
        gains[row, found] = np.clip(line[found] / means[found], 1.0 / MAX_GAIN, MAX_GAIN)
    out = images.copy()
    softness = REGION_SOFTNESS * brightness.scale
    for t in range(1, len(images)):
        if np.allclose(gains[:, t], 1.0):
            continue
        change = np.zeros(images.shape[1:])
        for row, label in enumerate(CHAMBERS):
            if gains[row, t] != 1.0:
                spread = ndimage.gaussian_filter((masks[t] == label).astype(np.float64), softness)
                change += spread * (gains[row, t] - 1.0)
        out[t] = _rounded(pictures[t] * (1.0 + brightness.weight(images[t]) * change))
    return out


def steady_loop(images: np.ndarray, masks: np.ndarray, field: np.ndarray, phases: np.ndarray,
                closed: bool = True, support: np.ndarray | None = None) -> np.ndarray:
    """The three steps of the module text: the far field held, every frame's brightness
    smoothed, each region's brightness kept on its line in phase (arguments as
    :func:`steady_far_field` and :func:`smooth_brightness`). All read the support of the
    images as drawn and share one blur."""
    if len(images) < 2:
        return images
    brightness = _Brightness(images, support)
    held = steady_far_field(images, masks, field, phases, support, brightness)
    smooth = smooth_brightness(held, field, phases, closed, support, brightness)
    return steady_chambers(smooth, masks, phases, support, brightness)


def hold_far_field(image: np.ndarray, mask: np.ndarray, reference: np.ndarray,
                   support: np.ndarray | None = None,
                   reference_mask: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8 ``image`` (of ``mask``) with its far field's brightness set to
    ``reference``'s (another image of the same scan, e.g. the ED key frame's beside the ES
    one), each keeping its own speckle: step 1 of the module text for a pair of frames, with
    no motion (the tissue far from the heart hardly moves between key frames). With
    ``reference_mask`` (the reference's labels) the far field is far from both hearts: where
    only the reference has a heart, its brightness is not the background's and is not taken."""
    pair = np.stack([np.asarray(reference, np.uint8), np.asarray(image, np.uint8)])
    mask = np.asarray(mask)
    if reference_mask is not None:
        mask = np.where(mask != 0, mask, np.asarray(reference_mask))  # a heart in either
    masks = np.stack([mask, mask])
    still = np.zeros((*pair.shape[1:], 2), np.float32)
    return steady_far_field(pair, masks, still, np.array([0.0, 1.0]), support)[1]
