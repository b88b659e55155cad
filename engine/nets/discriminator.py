"""Multi-scale PatchGAN discriminator (NVlabs ``MultiscaleDiscriminator``)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import normed_conv


class PatchDiscriminator(nn.Module):
    """A ``n_layers``-deep PatchGAN returning every intermediate feature map.

    Args:
        input_nc: channels of (one-hot labels ++ image).
        ndf: width of the first layer (doubling per layer, at most 512).
        n_layers: strided/normalised conv layers (NVlabs ``n_layers_D``, 4 by default).
        norm: NVlabs ``norm_D`` for all but the first and last layers.
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4,
                 norm: str = "spectralinstance") -> None:
        super().__init__()
        nf = ndf
        sequence: list[list[nn.Module]] = [[
            nn.Conv2d(input_nc, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2)]]
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            sequence.append([normed_conv(nn.Conv2d(nf_prev, nf, 4, stride=stride, padding=2), norm),
                             nn.LeakyReLU(0.2)])
        sequence.append([nn.Conv2d(nf, 1, 4, stride=1, padding=2)])
        for n, layers in enumerate(sequence):
            self.add_module(f"model{n}", nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for layer in self.children():
            x = layer(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    """``num_d`` PatchGANs on the input at successively halved resolutions.

    Args:
        input_nc: channels of (one-hot labels ++ image).
        ndf: width of each PatchGAN's first layer.
        n_layers: layers per PatchGAN.
        num_d: number of scales.
        norm: NVlabs ``norm_D``.

    ``forward`` returns, per scale, the list of intermediate features; the last entry of each
    list is the patch prediction.
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4, num_d: int = 2,
                 norm: str = "spectralinstance") -> None:
        super().__init__()
        self.input_nc = input_nc
        for i in range(num_d):
            self.add_module(f"discriminator_{i}", PatchDiscriminator(input_nc, ndf, n_layers, norm))

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        assert x.ndim == 4 and x.shape[1] == self.input_nc, tuple(x.shape)
        results = []
        for d in self.children():
            results.append(d(x))
            x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
        return results
