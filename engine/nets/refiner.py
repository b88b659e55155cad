"""Texture refiner: a small residual network after the generator, trained against real images.

The generator draws the anatomy well, yet a small CNN tells its images from real ones by their
texture in a few places: the near field under the probe (where real images hold the probe's
ring-down and clutter), the band along the fan's edge, the layout's fine grey levels. The
refiner reworks that texture after the fact, in the manner of SimGAN (Shrivastava et al.,
"Learning from simulated and unsupervised images through adversarial training", CVPR 2017):
a local network trained with an adversarial loss against real images and a
self-regularisation loss that holds its output's 4x4-block means to its input's, so the
anatomy, the grey levels and the masks' borders stay where the generator put them.

Contract (a model file's ``refiner`` record, ``{"width": W}``, and its ``refiner.*`` tensors):

- input: the image in [-1, 1], (N, 1, H, W), already black outside its fan; two guide
  channels from the fan (:func:`refiner_guides`: the share of the fan's depth, 0 at the apex
  and 1 at the arc, and the distance inside the fan's edge over :data:`EDGE_SCALE` pixels,
  both clipped); one channel of white noise from the image's seed (:func:`refiner_noise`),
  so one seed still gives one image;
- network: a 3x3 convolution to W channels, residual 3x3 convolutions with dilations
  :data:`DILATIONS` (leaky ReLU 0.2), a 3x3 convolution to one channel, squashed by a tanh to
  at most :data:`MAX_CHANGE` either way and added to the image; it reads 21 x 21 pixels around
  each output pixel. The bound keeps it a texture step: unbounded, it learnt to paint the
  fan's tip white (grey 230 where real frames have 120), a few pixels its regularisation
  hardly weighs. The last convolution starts at zero, so an untrained refiner changes nothing;
- reach (the record's optional ``near_field``, R): the change is applied in full to the top R
  of the fan's depth (the near field, where a real frame shows the probe's ring-down) and
  fades to nothing over the next :data:`NEAR_FADE` of the depth; below that the image is the
  generator's, pixel for pixel. Without it the whole fan is reworked. Two refiners trained
  for the bundled model on the whole fan made the near field harder to tell from real, but
  the edge band and the coarse layout easier. Confined, a refiner leaves the rest as the
  generator drew it. For the bundled model, one confined to the top 0.25 brought its near
  field only to 0.972 against 0.985 (docs/training.md);
- output: the sum clipped to [-1, 1]; the :class:`~engine.synthesizer.Synthesizer` cuts the
  change to the fan (:func:`cut_change`: the image is already cut, and cutting it
  again would dim the edge's partly covered pixels a second time). Models without a fan
  never use it.

``cardigan refine`` trains one for a model on a prepared dataset
(:mod:`engine.training.refiner_training`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..fan import Fan, edge_distance
from .refiner_limits import near_field_problem, width_problem

DILATIONS = (1, 2, 4, 1)
EDGE_SCALE = 16.0  # pixels: the edge guide reaches 1 this far inside the fan
MAX_CHANGE = 0.3  # the most it moves a pixel, in [-1, 1] units (38 grey levels)
NEAR_FADE = 0.05  # share of the fan's depth over which a near-field refiner's change fades out
NOISE_OFFSET = 0x5EED  # the refiner's noise seed is the image's seed plus this


class Refiner(nn.Module):
    """(image, guides, noise) -> the image with its texture reworked (see the module)."""

    def __init__(self, width: int = 16, near_field: float | None = None) -> None:
        super().__init__()
        problem = width_problem(width) or (near_field_problem(near_field) if near_field is not None else None)
        if problem:
            raise ValueError(problem)
        self.width = width
        self.near_field = None if near_field is None else float(near_field)
        self.inp = nn.Conv2d(4, width, 3, padding=1)
        self.body = nn.ModuleList([nn.Conv2d(width, width, 3, padding=d, dilation=d) for d in DILATIONS])
        self.out = nn.Conv2d(width, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, image: torch.Tensor, guides: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.inp(torch.cat([image, guides, noise], 1)), 0.2)
        for conv in self.body:
            h = h + F.leaky_relu(conv(h), 0.2)
        change = MAX_CHANGE * torch.tanh(self.out(h) / MAX_CHANGE)
        if self.near_field is not None:
            change = change * reach_weight(guides, self.near_field)
        return (image + change).clamp(-1.0, 1.0)

    def record(self) -> dict:
        """What a model file stores about it (beside its tensors)."""
        record = {"width": self.width}
        if self.near_field is not None:
            record["near_field"] = self.near_field
        return record


def reach_weight(guides: torch.Tensor, near_field: float) -> torch.Tensor:
    """(N, 1, H, W): 1 in the top ``near_field`` of the fan's depth, 0 from ``near_field`` +
    :data:`NEAR_FADE` on, linear between (read from :func:`refiner_guides`' depth channel)."""
    return ((near_field + NEAR_FADE - guides[:, :1]) / NEAR_FADE).clamp(0.0, 1.0)


@lru_cache(maxsize=16)
def _guides(fan: Fan, height: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[:height, :width] + 0.5
    depth = fan.beam_coordinates(ys, xs, height, width)[0] / (fan.depth * height)
    edge = edge_distance(fan, height, width) / EDGE_SCALE
    guides = np.stack([np.clip(depth, 0.0, 1.2), np.clip(edge, -0.1, 1.0)]).astype(np.float32)
    guides.setflags(write=False)
    return guides


def refiner_guides(fans, height: int, width: int) -> torch.Tensor:
    """(N, 2, H, W) float32 guide channels for images in ``fans`` (see the module)."""
    return torch.from_numpy(np.stack([_guides(fan, height, width) for fan in fans]))


def guide_coverage(guides: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) the fans' coverage (:func:`engine.fan.fan_alpha`) read back from
    :func:`refiner_guides`' edge channel, exact where it matters (within a pixel of the edge)."""
    return (guides[:, 1:2] * EDGE_SCALE + 0.5).clamp(0.0, 1.0)


def cut_change(image, refined, alpha):
    """``image`` (already cut to its fan) plus the refiner's change cut to the fan's coverage
    ``alpha``: outside the fan it stays black and, where the refiner changes nothing, the
    edge's partly covered pixels stay as they were (cutting ``refined`` itself would dim them
    to coverage squared). Numpy arrays or tensors; the training and the Synthesizer both use it."""
    return image + alpha * (refined - image)


def refiner_noise(seeds, height: int, width: int) -> torch.Tensor:
    """(N, 1, H, W) float32 white noise, one map per seed (seed + :data:`NOISE_OFFSET`)."""
    return torch.stack([torch.randn(1, height, width,
                                    generator=torch.Generator().manual_seed((int(s) + NOISE_OFFSET) & (2**63 - 1)))
                        for s in seeds])


@torch.inference_mode()
def refine_images(refiner: Refiner, images: np.ndarray, fans, seeds, device="cpu") -> np.ndarray:
    """(N, 1, H, W) float32 images in [-1, 1], black outside ``fans``, refined (not yet cut
    to the fans again); image i's noise comes from ``seeds[i]``."""
    height, width = images.shape[-2:]
    parameter = next(refiner.parameters())
    channels_last = torch.channels_last  # 3-5x faster than the default layout for these narrow convolutions on a CPU
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(parameter.device, parameter.dtype)
    guides = refiner_guides(fans, height, width).to(x)
    noise = refiner_noise(seeds, height, width).to(x)
    out = refiner(x.contiguous(memory_format=channels_last), guides.contiguous(memory_format=channels_last),
                  noise.contiguous(memory_format=channels_last))
    return np.ascontiguousarray(out.float().cpu().numpy())
