"""Blood that does not move with the wall: the pools' speckle drawn afresh every frame.

Tissue speckle moves with the tissue: the myocardium's pattern is carried from frame to frame
(speckle-tracking echocardiography rests on it), and :func:`.motion.warp_noise` carries the
noise map so. Blood is different. It flows at 0.2-1 m/s, 5-25 mm in one 25 ms frame, many
times a speckle cell (about 0.5 mm), so the weak echoes from the blood pools decorrelate
completely from one frame to the next; what stays in place in a cavity is clutter and
reverberation, fixed to the probe, not to the wall. A noise map warped with the wall instead
stretches and squeezes one pattern over the pools, frozen in the blood as the heart beats.

:func:`pool_noise` gives each frame's pools (LV cavity and left atrium, that frame's mask) their
own detail noise: a share :data:`CLUTTER` (in amplitude) of the ED map left where it is on the
picture (the probe's clutter), the rest drawn for that frame from the loop's seed. The style
channels (one value per image) are never touched, the pools' edge is softened over
:data:`SOFTEN` pixels so the wall keeps its own carried speckle, and the noise keeps unit
variance. Frame 0 (ED) keeps the ED map exactly, so a loop's first frame is the still image
of its seed, and so does a frame at ES (the still image of the ES key frame, :mod:`.loop`). Fresh
noise is drawn per frame, so a full cycle still closes: the last frame is as far from the first
as any frame from the next.
"""

from __future__ import annotations

import numpy as np

from ..labels import LEFT_ATRIUM, LV_CAVITY
from ..nets.pool_detail import soft_interior

CLUTTER = 0.5  # amplitude share of a pool's noise fixed on the picture (its variance share: 0.25)
SOFTEN = 1.5  # Gaussian sigma, pixels at the noise map's size: the pools' soft edge ...
REACH = 2.0  # ... cut at this many sigmas (3 px), so tissue further from the pools keeps its noise exactly
INSET = 2  # pixels: the pools are shrunk by this much first, so the soft edge reaches 1 px into the wall
SEED_SALT = 0x626C6F6F64  # keeps the fresh frames' stream apart from the loop's noise map


def pool_weight(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 in [0, 1]: 1 deep in the blood pools of ``mask`` (resized to ``size``
    by nearest pixel), 0 in tissue and outside, a soft edge between."""
    height, width = size
    rows = np.minimum((np.arange(height) * mask.shape[0]) // height, mask.shape[0] - 1)
    cols = np.minimum((np.arange(width) * mask.shape[1]) // width, mask.shape[1] - 1)
    pools = np.isin(mask[rows][:, cols], (LV_CAVITY, LEFT_ATRIUM))
    return soft_interior(pools, INSET, SOFTEN, truncate=REACH).astype(np.float32)


class PoolNoise:
    """Each frame's pools drawn afresh, one frame at a time and in order (a loop's frames then
    need not all be held at once): ``PoolNoise(base, seed)(t, carried, mask)`` gives frame
    ``t``'s noise map. The fresh noise comes from one stream per loop, read frame after frame,
    so the frames must be asked for in increasing order, each once."""

    def __init__(self, base: np.ndarray, seed: int, clutter: float = CLUTTER, keep=()) -> None:
        if not 0.0 <= clutter <= 1.0:
            raise ValueError(f"clutter must be between 0 and 1, got {clutter}")
        self.base, self.clutter = base, clutter
        self.first_detail = base.shape[0] // 2  # the style channels come first and stay as they are
        self.rng = np.random.default_rng([int(seed) & (2**63 - 1), SEED_SALT])
        self.fresh_share = np.sqrt(1.0 - clutter * clutter)
        self.kept = {int(t) for t in keep}
        self.last = 0

    def __call__(self, t: int, carried: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(C, H, W) frame ``t``'s map: ``carried`` (moved with the tissue) with the pools of
        ``mask`` (h, w) drawn afresh; frame 0 and the kept frames as given."""
        out = carried.astype(np.float32, copy=True)
        if t == 0 or t in self.kept:
            return out
        if t <= self.last:
            raise ValueError(f"frame {t} asked for after frame {self.last}: the frames come in order")
        self.last = t
        channels, height, width = out.shape
        first = self.first_detail
        weight = pool_weight(mask, (height, width))
        rows, cols = np.nonzero(weight)
        if not len(rows):
            return out
        box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))  # only the pools change
        w = weight[box]
        fresh = self.rng.standard_normal((channels - first, *w.shape), dtype=np.float32)
        blood = self.clutter * self.base[first:, box[0], box[1]] + self.fresh_share * fresh
        inside = out[first:, box[0], box[1]]
        # two independent unit fields mixed (1 - w, w) have variance (1 - w)^2 + w^2
        out[first:, box[0], box[1]] = ((1.0 - w) * inside + w * blood) / np.sqrt((1.0 - w) ** 2 + w ** 2)
        return out


def pool_noise(noise_maps: np.ndarray, base: np.ndarray, masks: np.ndarray, seed: int,
               clutter: float = CLUTTER, keep=()) -> np.ndarray:
    """``noise_maps`` (T, C, H, W, carried with the tissue) with each frame's pools drawn
    afresh (see the module's text); ``base`` (C, H, W) is the ED map, ``masks`` (T, h, w)
    the loop's masks. ``clutter`` 1 gives the pools a map fixed on the picture, 0 a new
    one every frame. Frame 0 and the frames in ``keep`` (a loop's ES frames, which show the ES
    still image) are left as given. The same as :class:`PoolNoise` frame by frame."""
    pools = PoolNoise(base, seed, clutter, keep)
    return np.stack([pools(t, noise_maps[t], masks[t]) for t in range(len(noise_maps))])
