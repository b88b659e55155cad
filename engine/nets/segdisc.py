"""A segmentation discriminator (OASIS, Schönfeld et al., ICLR 2021), sized for CPUs.

Instead of judging "real or fake" per patch from (labels ++ image), it segments the image
alone into N + 1 classes per pixel: the N label classes for real pixels, class 0 for
"fake". To fool it the generator must draw every region so that it is recognised as its
class, which is what mask fidelity asks for, without a VGG network.

A small U-Net: ``depth`` stride-2 levels (two 3x3 convolutions each, spectral norm, leaky
ReLU), then a decoder that upsamples and merges the skip connections back to half the input
resolution, where the N + 1 logits are produced (labels are compared there, nearest-resized).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Module:
    return spectral_norm(nn.Conv2d(cin, cout, 3, stride=stride, padding=1))


class _Down(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv_0 = _conv(cin, cout, stride=2)
        self.conv_1 = _conv(cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv_0(x), 0.2)
        return F.leaky_relu(self.conv_1(x), 0.2)


class _Up(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.conv_0 = _conv(cin + cskip, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
        return F.leaky_relu(self.conv_0(torch.cat([x, skip], 1)), 0.2)


class SegmentationDiscriminator(nn.Module):
    """Image (N, image_nc, H, W) -> logits (N, classes + 1, H/2, W/2); channel 0 is "fake".

    Args:
        image_nc: image channels.
        classes: label classes (4 for cardiac maps).
        ndf: width of the first level (doubling per level, at most 8 x ndf).
        depth: stride-2 levels; H and W must be multiples of 2**depth.
    """

    def __init__(self, image_nc: int = 1, classes: int = 4, ndf: int = 16, depth: int = 5) -> None:
        super().__init__()
        assert depth >= 2, depth
        widths = [min(ndf * 2 ** i, 8 * ndf) for i in range(depth)]
        self.depth = depth
        self.down = nn.ModuleList([_Down(image_nc, widths[0])] +
                                  [_Down(widths[i - 1], widths[i]) for i in range(1, depth)])
        self.up = nn.ModuleList([_Up(widths[i], widths[i - 1], widths[i - 1])
                                 for i in range(depth - 1, 0, -1)])
        self.head = nn.Conv2d(widths[0], classes + 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-1] % 2 ** self.depth == 0 and x.shape[-2] % 2 ** self.depth == 0, tuple(x.shape)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = block(x, skip)
        return self.head(x)
