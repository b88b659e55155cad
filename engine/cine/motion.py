"""Masks between two key frames, and how tissue moves between them.

**Shapes.** A heart at phase s between ED (0) and ES (1) is drawn from the linearly blended
signed distances of four regions of the two key frames: the ventricle's outline (cavity and
myocardium), the blood pool (cavity and atrium), the atrium and the cavity. Painted in that
order (:data:`ORDER`), a frame keeps what both key frames have: the cavity inside its wall,
the atrium below the mitral plane and touching it (the blood pool fills the mitral plane
while the base moves). Every frame is checked
(:func:`engine.anatomy.topology.topology_problems`).

**Motion.** One dense displacement field from ED to ES (SimpleITK's symmetric-forces Demons
on lightly blurred label maps, at most 128 px, upsampled): the pixel x of the ES frame shows
the tissue that sat at x + field(x) at ED. At phase s the field is scaled by s. It carries
the noise map along with the tissue (:func:`warp_noise`), so speckle travels with the wall
and the background stays still. A loop carries it from both key frames at once
(:func:`key_frame_noise`), so that it passes through the still image of each.
"""

from __future__ import annotations

import numpy as np

from ..errors import MaskError
from ..labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM

FIELD_SIZE = 128  # the registration runs at most at this size
DEMONS_ITERATIONS = 60
DEMONS_SMOOTHING = 2.0  # pixels at FIELD_SIZE


def _signed_distance(region: np.ndarray) -> np.ndarray:
    """Signed distance in pixels to a region's edge, negative inside."""
    from scipy import ndimage

    if not region.any():
        return np.full(region.shape, 1e4, np.float32)
    if region.all():
        return np.full(region.shape, -1e4, np.float32)
    outside = ndimage.distance_transform_edt(~region)
    inside = ndimage.distance_transform_edt(region)
    return (outside - inside).astype(np.float32)


# painted in this order: the wall (cavity and myocardium), the blood pool (cavity and atrium:
# it closes the mitral plane while the base moves), the atrium, then the cavity on top
ORDER = (MYOCARDIUM, LEFT_ATRIUM, LEFT_ATRIUM, LV_CAVITY)


def _regions(labels: np.ndarray) -> tuple[np.ndarray, ...]:
    cavity, atrium = labels == LV_CAVITY, labels == LEFT_ATRIUM
    return cavity | (labels == MYOCARDIUM), cavity | atrium, atrium, cavity


def check_key_frames(ed: np.ndarray, es: np.ndarray) -> None:
    """One line for key frames that cannot make a loop."""
    if ed.shape != es.shape:
        raise MaskError(f"the ED and ES masks differ in size ({ed.shape[1]}x{ed.shape[0]} and "
                        f"{es.shape[1]}x{es.shape[0]}); give two masks of one view at one size")
    for name, mask in (("ED", ed), ("ES", es)):
        if not (mask == LV_CAVITY).any():
            raise MaskError(f"the {name} mask has no LV cavity: a loop needs a ventricle in both key frames")


class ShapeBlend:
    """The signed distances of two key frames, ready to draw any phase between them."""

    def __init__(self, ed: np.ndarray, es: np.ndarray) -> None:
        check_key_frames(ed, es)
        self.shape = ed.shape
        self.ed = [_signed_distance(r) for r in _regions(ed)]
        self.es = [_signed_distance(r) for r in _regions(es)]

    def mask(self, phase: float) -> np.ndarray:
        s = float(min(max(phase, 0.0), 1.0))
        out = np.full(self.shape, BACKGROUND, np.uint8)
        for value, a, b in zip(ORDER, self.ed, self.es):
            out[(1.0 - s) * a + s * b < 0] = value
        return out


def _registration_image(labels: np.ndarray):
    import SimpleITK as sitk
    from scipy import ndimage

    # distinct levels per class, blurred so the forces reach across a few pixels
    levels = np.array([0.0, 1.0, 2.5, 4.0], np.float32)[labels]
    return sitk.GetImageFromArray(ndimage.gaussian_filter(levels, 1.0))


def displacement_field(ed: np.ndarray, es: np.ndarray) -> np.ndarray:
    """(H, W, 2) float32 (dx, dy) in pixels: the ES frame's pixel x shows the tissue at
    x + field(x) of the ED frame."""
    import SimpleITK as sitk

    check_key_frames(ed, es)
    height, width = ed.shape
    step = max(1, int(np.ceil(max(height, width) / FIELD_SIZE)))
    small_ed, small_es = ed[::step, ::step], es[::step, ::step]
    demons = sitk.FastSymmetricForcesDemonsRegistrationFilter()
    demons.SetNumberOfIterations(DEMONS_ITERATIONS)
    demons.SetStandardDeviations(DEMONS_SMOOTHING)
    field = sitk.GetArrayFromImage(demons.Execute(_registration_image(small_es), _registration_image(small_ed)))
    if step > 1:
        field = upsample_field(field, step, height, width)
    return np.ascontiguousarray(field, np.float32)


def upsample_field(field: np.ndarray, step: int, height: int, width: int) -> np.ndarray:
    """A (h, w, 2) field found on every ``step``-th pixel (row and column 0, step, ...) -> the
    (height, width, 2) field in full-size pixels: each sample lands on the pixel it was taken
    at, bilinear between them and constant beyond the last."""
    import torch
    import torch.nn.functional as F

    small_h, small_w = field.shape[:2]
    tensor = torch.from_numpy(np.ascontiguousarray(field, np.float32)).permute(2, 0, 1)[None] * step

    def axis(size: int, samples: int) -> torch.Tensor:  # full-size pixel -> the samples' [-1, 1]
        return torch.arange(size, dtype=torch.float32) / step / max(samples - 1, 1) * 2.0 - 1.0

    gy, gx = torch.meshgrid(axis(height, small_h), axis(width, small_w), indexing="ij")
    grid = torch.stack([gx, gy], dim=-1)[None]
    up = F.grid_sample(tensor, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return up[0].permute(1, 2, 0).numpy()


def warp_nearest(array: np.ndarray, field: np.ndarray, scale: float) -> np.ndarray:
    """``array`` (..., H, W) resampled at x + scale * field(x), nearest pixel, clamped at
    the border: white noise keeps its statistics exactly."""
    height, width = array.shape[-2:]
    ys, xs = np.mgrid[0:height, 0:width]
    px = np.clip(np.rint(xs + scale * field[..., 0]).astype(np.int64), 0, width - 1)
    py = np.clip(np.rint(ys + scale * field[..., 1]).astype(np.int64), 0, height - 1)
    return array[..., py, px]


def warp_noise(noise: np.ndarray, field: np.ndarray, phase: float) -> np.ndarray:
    """A (C, H, W) noise map moved with the tissue to ``phase`` (0 = ED, unchanged). The
    per-image style channels (constant maps) are unchanged by any warp."""
    if phase == 0.0:
        return noise
    return warp_nearest(noise, field, float(phase))


def key_frame_noise(noise: np.ndarray, field: np.ndarray, phase: float) -> np.ndarray:
    """A (C, H, W) white-noise map for ``phase`` that is ``noise`` itself at both key frames:
    the map carried from ED (:func:`warp_noise` at ``phase``) and the map carried back from ES
    (at ``phase - 1``: the ES frame holds ``noise`` where its pixels are) mixed with weights
    ``1 - phase`` and ``phase``. Each pixel keeps unit variance: where the two carried maps read
    the same source pixel (still tissue, and the per-image style channels everywhere) they are
    one value, elsewhere two independent ones. Between the key frames the pattern moves with the
    tissue and turns over gradually from ED's to ES's, as speckle decorrelates when tissue
    leaves the imaging plane."""
    phase = float(min(max(phase, 0.0), 1.0))
    if phase in (0.0, 1.0):
        return noise
    height, width = noise.shape[-2:]
    ys, xs = np.mgrid[0:height, 0:width]

    def source(scale: float) -> np.ndarray:  # flat index of the pixel each pixel reads
        py = np.clip(np.rint(ys + scale * field[..., 1]).astype(np.int64), 0, height - 1)
        px = np.clip(np.rint(xs + scale * field[..., 0]).astype(np.int64), 0, width - 1)
        return (py * width + px).ravel()

    from_ed, from_es = source(phase), source(phase - 1.0)
    flat = noise.reshape(*noise.shape[:-2], height * width)
    a, b = 1.0 - phase, phase
    # a A + b B over the root of its variance: (a + b)^2 where A is B, a^2 + b^2 where they are independent
    scale = np.where(from_ed == from_es, 1.0 / (a + b), 1.0 / np.sqrt(a * a + b * b)).astype(noise.dtype)
    mixed = (np.take(flat, from_ed, axis=-1) * a + np.take(flat, from_es, axis=-1) * b) * scale
    style = np.all(flat == flat[..., :1], axis=-1)  # constant maps: left exactly as they are
    mixed[style] = flat[style]
    return mixed.reshape(noise.shape).astype(noise.dtype, copy=False)
