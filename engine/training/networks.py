"""Building the networks of a training run."""

from __future__ import annotations

import torch
import torch.nn as nn

from ..nets import SPADEGenerator
from ..nets.discriminator import MultiscaleDiscriminator
from ..nets.segdisc import SegmentationDiscriminator
from ..nets.encoder import StyleEncoder, reparameterize
from ..nets.init import init_weights
from .config import TrainConfig
from .losses import kld_loss

IMAGE_CHANNELS = 1  # native models synthesize greyscale echocardiograms


class GeneratorStack(nn.Module):
    """The generator and (for VAE runs) its style encoder, trained together.

    ``forward(seg, real)`` returns the fake image and the KL term (zero without an encoder).
    """

    def __init__(self, generator: SPADEGenerator, encoder: StyleEncoder | None) -> None:
        super().__init__()
        self.generator = generator
        self.encoder = encoder

    def forward(self, seg: torch.Tensor, real: torch.Tensor | None = None,
                z: torch.Tensor | None = None,
                noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        kld = seg.new_zeros(())
        if self.encoder is not None and real is not None and z is None:
            mu, logvar = self.encoder(real)
            z = reparameterize(mu, logvar)
            kld = kld_loss(mu, logvar)
        return self.generator(seg, z, noise), kld


def build_discriminator(config: TrainConfig) -> nn.Module:
    if config.discriminator == "oasis":
        return SegmentationDiscriminator(IMAGE_CHANNELS, config.classes, config.ndf)
    return MultiscaleDiscriminator(config.classes + IMAGE_CHANNELS, config.ndf, config.n_layers_d,
                                   config.num_d, config.norm_d, config.pooled_d, IMAGE_CHANNELS)


def build_networks(config: TrainConfig) -> tuple[GeneratorStack, nn.Module]:
    """Freshly initialised G (+E) and D for ``config`` (NVlabs' xavier(0.02) init)."""
    generator = SPADEGenerator(config.generator_config(IMAGE_CHANNELS))
    encoder = None
    if config.use_vae:
        encoder = StyleEncoder(ngf=config.ngf, input_nc=IMAGE_CHANNELS,
                               image_size=config.image_size, z_dim=config.z_dim)
    stack = GeneratorStack(generator, encoder)
    discriminator = build_discriminator(config)
    init_weights(stack)
    init_weights(discriminator)
    return stack, discriminator
