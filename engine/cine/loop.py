"""A cine loop: the masks of every frame, how tissue moves, and the images a model draws.

:func:`loop_from_key_frames` makes a loop from two masks (painted, loaded, or a dataset's ED
and ES), :func:`loop_from_heart` from a shape-model heart along its own ED -> ES path. Both
sample the phase curve of :mod:`.timing`. :func:`synthesize_loop` draws the images with any
model, every frame with the loop's seed (one scan: one shading, one ring-down): noise-input
models get one noise map for the whole loop, carried with the tissue from both key frames
(:func:`.motion.key_frame_noise`), so speckle follows the wall, the loop passes through both key
frames' still images and closes seamlessly; the
blood pools get fresh noise every frame (:mod:`.blood`), as flowing blood decorrelates, and
brightness does not jump from frame to frame (:mod:`.steady`): the tissue away from the heart
keeps the first frame's, and every frame's is averaged with its neighbours' along the motion.
The frames between the key frames are drawn with soft labels (:func:`loop_soft_labels`): the
network's coarse levels read each class's share of a cell, so an outline moving a pixel does
not change a patch tens of pixels wide at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..anatomy.topology import topology_problems
from ..errors import CardiganError
from ..labels import LV_CAVITY
from ..soft_labels import SoftLabels
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from .blood import PoolNoise
from .motion import ShapeBlend, displacement_field, key_frame_noise
from .timing import Timing

BATCH = 8


@dataclass
class CineLoop:
    """``masks`` (T, H, W) uint8; ``phases`` (T,) 0 = ED .. 1 = ES; ``field`` (H, W, 2) the
    ED -> ES displacement (see :mod:`.motion`); ``view`` when known; ``fan`` the probe's
    sector for models that take one (None: the median)."""

    masks: np.ndarray
    phases: np.ndarray
    field: np.ndarray
    timing: Timing
    view: str | None = None
    fan: object = None

    def es_frames(self) -> list[int]:
        """The frames that fall exactly on ES (a half cycle's last; a whole cycle's when its
        frame count puts one there)."""
        return [int(i) for i in np.flatnonzero(self.phases == 1.0)]

    @property
    def frames(self) -> int:
        return int(self.masks.shape[0])

    def cavity_areas(self) -> np.ndarray:
        return (self.masks == LV_CAVITY).reshape(self.frames, -1).sum(axis=1)

    def ejection_fraction(self) -> float:
        """Area-based EF of the loop's masks, percent: (largest - smallest) / largest cavity."""
        areas = self.cavity_areas().astype(np.float64)
        return float(100.0 * (areas.max() - areas.min()) / areas.max()) if areas.max() else float("nan")

    def invalid_frames(self) -> list[int]:
        """Frames whose mask is not a plausible heart."""
        return [i for i, mask in enumerate(self.masks) if topology_problems(mask)]


def loop_from_key_frames(ed: np.ndarray, es: np.ndarray, timing: Timing = Timing(),
                         view: str | None = None, fan=None) -> CineLoop:
    """A loop between two key frames of one view (:class:`.motion.ShapeBlend`)."""
    timing = timing.checked()
    blend = ShapeBlend(np.asarray(ed), np.asarray(es))
    phases = timing.phases()
    masks = np.stack([blend.mask(p) for p in phases])
    return CineLoop(masks, phases, displacement_field(blend.mask(0.0), blend.mask(1.0)), timing, view, fan)


def loop_from_heart(model, heart, view: str, size: int = 256, timing: Timing = Timing(), fan=None) -> CineLoop:
    """A loop of a shape-model heart (:class:`engine.anatomy.ShapeModel`) along its own motion,
    drawn in ``fan`` (default: the view's median fan)."""
    timing = timing.checked()
    phases = timing.phases()
    drawn: dict[float, np.ndarray] = {}  # phase -> its mask: each phase is drawn once

    def mask_at(phase: float) -> np.ndarray:
        if phase not in drawn:
            drawn[phase] = model.mask(heart, view, phase, size, fan=fan)
        return drawn[phase]

    masks = np.stack([mask_at(float(p)) for p in phases])
    field = displacement_field(mask_at(0.0), mask_at(1.0))  # the key frames, drawn for the loop already
    return CineLoop(masks, phases, field, timing, view, fan)


def _native_field(loop: CineLoop, native: tuple[int, int]) -> np.ndarray:
    """The loop's displacement field at the model's own size (in its pixels)."""
    import torch
    import torch.nn.functional as F

    height, width = loop.masks.shape[-2:]
    if (height, width) == tuple(native):
        return loop.field
    tensor = torch.from_numpy(np.ascontiguousarray(loop.field)).permute(2, 0, 1)[None]
    tensor = F.interpolate(tensor, size=tuple(native), mode="bilinear", align_corners=False)[0]
    tensor[0] *= native[1] / width
    tensor[1] *= native[0] / height
    return tensor.permute(1, 2, 0).numpy()


def loop_soft_labels(loop: CineLoop) -> SoftLabels:
    """Soft labels (:mod:`engine.soft_labels`) for every frame of ``loop``: the key masks are
    the frames of the smallest and the largest phase (ED and, where a frame falls on it, ES),
    weighted by where a frame's phase lies between theirs, so those two are drawn as their
    still images and the frames between change as smoothly as their outlines."""
    first, last = int(np.argmin(loop.phases)), int(np.argmax(loop.phases))
    low, high = float(loop.phases[first]), float(loop.phases[last])
    share = (loop.phases - low) / (high - low) if high > low else np.zeros(loop.frames)
    weights = np.stack([1.0 - share, share], 1).astype(np.float32)
    return SoftLabels(loop.masks[[first, last]], weights)


def synthesize_loop(synth, loop: CineLoop, seed: int = 0, progress: ProgressCallback = no_progress,
                    should_stop: StopCheck = never_stop, fresh_blood: bool = True,
                    steady: bool = True, soft_labels: bool = True) -> np.ndarray:
    """(T, H, W) uint8 images of every frame of ``loop``, drawn by ``synth``
    (:class:`engine.synthesizer.Synthesizer`): one seed for the whole loop; ``fresh_blood``
    False carries the pools' noise with the wall too (:mod:`.blood`); ``steady`` False
    leaves each frame's brightness as the network draws it (:mod:`.steady`); ``soft_labels``
    False has the network's coarse levels sample every frame's labels at one pixel per cell, as
    for a still, instead of :func:`loop_soft_labels`. The first frame is
    the ED key frame's still image for ``seed``. A frame that falls exactly on ES is drawn as the
    ES key frame's still image is (the noise map is carried from both key frames,
    :func:`.motion.key_frame_noise`, and the pools keep it there): with ``steady`` False it is
    that image; steadied, its brightness follows its neighbours', its speckle stays the still's."""
    from ..nets.noise import inference_noise
    from ..synthesizer import to_uint8

    network = getattr(synth, "network", None) is not None
    config = synth.model.config if network else None
    frame_noise = None  # frame index -> its (C, H, W) noise map, asked for in order
    if network and config.noise_nc:
        native = tuple(synth.model.image_size)
        base = inference_noise(config.noise_nc, native, [seed], synth.style_scale)[0].numpy()
        field = _native_field(loop, native)
        pools = PoolNoise(base, seed, keep=loop.es_frames()) if fresh_blood else None

        def frame_noise(t: int) -> np.ndarray:  # one batch's maps at a time: a long loop's all would be GBs
            carried = key_frame_noise(base, field, float(loop.phases[t]))
            return carried if pools is None else pools(t, carried, loop.masks[t])
    per_frame = network and config.use_vae  # a VAE model: the same style vector for every frame
    out = []
    step = 1 if (per_frame or not network) else BATCH
    for start in range(0, loop.frames, step):
        if should_stop():
            raise Cancelled()
        stop = min(start + step, loop.frames)
        masks = loop.masks[start:stop]
        noise = None if frame_noise is None else np.stack([frame_noise(t) for t in range(start, stop)])
        if network:
            soft = None if not soft_labels else loop_soft_labels(loop).for_batch(start, stop)
            images = synth.synthesize(masks, seed=seed, fan=loop.fan, noise=noise, one_seed=True,
                                      soft_labels=soft)
        else:  # the simulator: the same seed (the same look) every frame
            images = np.stack([synth.synthesize(m, seed=seed, fan=loop.fan) for m in masks])
        out.extend(to_uint8(image) for image in images)
        progress(Progress("cine frames", stop, loop.frames))
    images = np.stack(out)
    if images.shape != loop.masks.shape:
        raise CardiganError(f"the model gave frames of {images.shape[1:]} for masks of {loop.masks.shape[1:]}")
    if steady:
        from ..fan import default_fan, fan_mask
        from .steady import steady_loop

        support = None
        if network and config.fan:  # the fan the frames were cut to
            support = fan_mask(loop.fan if loop.fan is not None else default_fan(), *images.shape[1:])
        images = steady_loop(images, loop.masks, loop.field, loop.phases, loop.timing.cycle == "full", support)
    return images
