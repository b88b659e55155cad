"""The VAE style encoder (NVlabs ``ConvEncoder``): image -> (mu, logvar) of a 256-d style."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import normed_conv


class StyleEncoder(nn.Module):
    """Six (five below 256 px) stride-2 convs, then linear heads for mu and logvar.

    Args:
        ngf: base width (NVlabs uses the generator's ``ngf``).
        input_nc: image channels (1 for native models, 3 for NVlabs ones).
        image_size: training image width; >= 256 adds the sixth conv.
        z_dim: style vector length (the linear heads' output).
        norm: NVlabs ``norm_E`` (``spectralinstance`` by default).
    """

    def __init__(self, ngf: int = 64, input_nc: int = 1, image_size: int = 256,
                 z_dim: int = 256, norm: str = "spectralinstance") -> None:
        super().__init__()
        self.hparams = {"ngf": ngf, "input_nc": input_nc, "image_size": image_size,
                        "z_dim": z_dim, "norm": norm}
        self.input_nc = input_nc
        self.deep = image_size >= 256

        def conv(cin: int, cout: int) -> nn.Module:
            return normed_conv(nn.Conv2d(cin, cout, 3, stride=2, padding=1), norm)

        self.layer1 = conv(input_nc, ngf)
        self.layer2 = conv(ngf, ngf * 2)
        self.layer3 = conv(ngf * 2, ngf * 4)
        self.layer4 = conv(ngf * 4, ngf * 8)
        self.layer5 = conv(ngf * 8, ngf * 8)
        if self.deep:
            self.layer6 = conv(ngf * 8, ngf * 8)
        self.fc_mu = nn.Linear(ngf * 8 * 4 * 4, z_dim)
        self.fc_var = nn.Linear(ngf * 8 * 4 * 4, z_dim)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert image.ndim == 4 and image.shape[1] == self.input_nc, tuple(image.shape)
        # NVlabs resizes to 256 (six stride-2 convs -> 4x4); below 256 px five convs need 128.
        side = 256 if self.deep else 128
        if image.shape[-2:] != (side, side):
            image = F.interpolate(image, size=(side, side), mode="bilinear")
        layers = [self.layer1, self.layer2, self.layer3, self.layer4, self.layer5]
        if self.deep:
            layers.append(self.layer6)
        x = image
        for index, layer in enumerate(layers):
            x = layer(x if index == 0 else F.leaky_relu(x, 0.2))
        x = F.leaky_relu(x, 0.2).flatten(1)
        return self.fc_mu(x), self.fc_var(x)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    std = torch.exp(0.5 * logvar)
    return torch.randn_like(std) * std + mu
