"""A steady far field: the tissue away from the heart keeps the first frame's brightness.

The generator reads the whole mask at once, so a wall that moves by a pixel can change how
bright it draws tissue far from that wall. Between neighbouring frames of a loop the far field
(background more than :data:`~.measures.FAR_CLEARANCE` pixels from the heart) then brightens
or darkens in patches tens of pixels wide: with the bundled model, on five shape-model loops of
32 frames, the worst frame pair changed the far field's σ 4 blur by 11 grey levels (median
over the loops; 22 in one), as much as drawing the next frame with a fresh seed does (13). A
scan does not do that: the chest wall and the tissue around the heart move little and keep
their echo strength from frame to frame.

:func:`steady_far_field` keeps each frame's speckle (its detail finer than the blur) and sets
the far field's brightness (its blur of σ :data:`SIGMA`, read only inside the image's support)
to the first frame's, carried to the frame with the tissue's motion as the noise map is
(:func:`.motion.warp_nearest`): the new brightness is the frame's plus a weight times the
difference, the weight 0 within :data:`NEAR` pixels of the heart, rising to 1 at :data:`FAR`
(at 256; in proportion for other sizes), and 0 on the picture's last pixel before its edge
(the fan's cut), rising to 1 :data:`EDGE` pixels further in. Near the heart, the heart
itself, the fan's edge and outside the image's support every frame is left as drawn, and the first frame is unchanged, so a loop
still starts on the still image of its seed.
"""

from __future__ import annotations

import numpy as np

from ..labels import BACKGROUND
from .motion import warp_nearest

SIGMA = 4.0  # pixels at 256: the blur that holds the brightness; finer detail is left as drawn
NEAR, FAR = 4.0, 12.0  # pixels at 256 from the heart: the weight rises from 0 to 1 between them
EDGE = 2.0  # pixels at 256: the weight rises from 0 one pixel inside the picture's edge over this


def far_weight(mask: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(H, W) float in [0, 1]: 0 on and within ``NEAR * scale`` pixels of the heart (any
    label but background), 1 beyond ``FAR * scale``, linear between."""
    from scipy import ndimage

    distance = ndimage.distance_transform_edt(mask == BACKGROUND)
    near, far = NEAR * scale, FAR * scale
    return np.clip((distance - near) / (far - near), 0.0, 1.0)


def steady_far_field(images: np.ndarray, masks: np.ndarray, field: np.ndarray,
                     phases: np.ndarray, support: np.ndarray | None = None) -> np.ndarray:
    """(T, H, W) uint8 ``images`` of a loop with the far field's brightness held at the first
    frame's (module text); ``masks`` (T, H, W) the frames' labels, ``field`` (H, W, 2) the
    loop's ED -> ES displacement at the images' size, ``phases`` (T,) each frame's phase;
    ``support`` (H, W) bool, the picture's support (the fan's mask for a model given the
    fan), by default every pixel lit in some frame."""
    from ..fan import blur_within

    frames, width = images.shape[0], images.shape[2]
    if frames < 2:
        return images
    from scipy import ndimage

    scale = width / 256.0
    sigma = SIGMA * scale
    pictures = images.astype(np.float64)
    support = (images > 0).any(axis=0) if support is None else np.asarray(support, bool)
    # the support's edge is the fan's, drawn by its cut: left alone, fading in over EDGE pixels
    inner = np.clip((ndimage.distance_transform_edt(support) - 1.0) / (EDGE * scale), 0.0, 1.0)
    support_blur = ndimage.gaussian_filter(support.astype(np.float64), sigma, truncate=4.0)
    reference = blur_within(pictures[0], support, sigma, inside_blur=support_blur)
    out = images.copy()
    for t in range(1, frames):
        weight = far_weight(masks[t], scale) * inner * (images[t] > 0)
        if not weight.any():
            continue
        carried = warp_nearest(reference, field, float(phases[t])) if phases[t] else reference
        own = blur_within(pictures[t], support, sigma, inside_blur=support_blur)
        out[t] = np.clip(np.rint(pictures[t] + weight * (carried - own)), 0, 255).astype(np.uint8)
    return out
