"""The fine-speckle path: per-pixel noise added just before the last convolution.

A B-mode image's speckle is fine, random and everywhere; a generator that makes every pixel
through a stack of normalised, smoothly upsampled blocks tends to paint it over. This layer
gives the last convolution the per-pixel noise directly (StyleGAN's noise inputs, Karras et
al. 2019): ``x + P n * (1 + g[class])``, where ``n`` is the per-pixel half of the noise input
(:mod:`.noise`), ``P`` a learned 1x1 projection and ``g`` a learned gain per class (blood
pools and tissue speckle differently). The 3x3 convolution after it shapes the noise's
spectrum (speckle is elongated across the beam). With the noise map fixed by the seed, the
image is as reproducible as before, and a cine loop carries this noise with the tissue too.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class TextureNoise(nn.Module):
    """Args: ``channels`` of the features it adds to; ``classes`` of the one-hot input;
    ``detail_nc`` per-pixel noise channels."""

    def __init__(self, channels: int, classes: int, detail_nc: int) -> None:
        super().__init__()
        self.classes = classes
        self.project = nn.Conv2d(detail_nc, channels, 1, bias=False)
        self.class_gain = nn.Parameter(torch.zeros(classes, channels))

    def forward(self, x: torch.Tensor, seg: torch.Tensor, detail: torch.Tensor) -> torch.Tensor:
        """``x`` (N, channels, H, W); ``seg`` one-hot (N, classes, H, W); ``detail`` (N, detail_nc, H, W)."""
        gain = 1.0 + F.conv2d(seg, self.class_gain.t()[:, :, None, None])
        return x + self.project(detail) * gain
