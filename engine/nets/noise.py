"""The 3D noise input of noise-conditioned generators (OASIS, Schönfeld et al. 2021).

A noise map has ``noise_nc`` channels and the size of the label map. The first half of the
channels holds one value per channel for the whole image (the image's "style": overall
brightness, contrast, texture character); the second half holds a fresh value at every pixel
(the random detail: speckle). Both are drawn from N(0, 1). The generator resizes the map
(nearest) to each layer, as it does the labels.

One image is one seed: :func:`seeded_noise` draws the same map for the same seed on every
machine. A region is resampled by drawing a second map and taking it inside the region
(:func:`resample_region`): the global channels then hold another constant there, so the
region gets another style and other detail while the rest of the map is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def sample_noise(noise_nc: int, batch: int, size: Sequence[int],
                 generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """(batch, noise_nc, H, W) float32 noise for ``size`` = (H, W)."""
    height, width = int(size[0]), int(size[1])
    n_global = noise_nc // 2
    gen_device = generator.device if generator is not None else device
    style = torch.randn(batch, n_global, 1, 1, generator=generator, device=gen_device)
    detail = torch.randn(batch, noise_nc - n_global, height, width, generator=generator,
                         device=gen_device)
    noise = torch.cat([style.expand(-1, -1, height, width), detail], 1)
    return noise.to(device) if device is not None else noise


def seeded_noise(noise_nc: int, size: Sequence[int], seeds: Sequence[int]) -> torch.Tensor:
    """(len(seeds), noise_nc, H, W) noise, item i drawn on the CPU from ``seeds[i]`` alone."""
    return torch.cat([sample_noise(noise_nc, 1, size, torch.Generator().manual_seed(int(seed) & (2**63 - 1)))
                      for seed in seeds])


def inference_noise(noise_nc: int, size: Sequence[int], seeds: Sequence[int],
                    style_scale: float = 1.0) -> torch.Tensor:
    """:func:`seeded_noise` with the style channels scaled by a model's ``style_scale``
    (:class:`~engine.nets.GeneratorConfig`): what a model draws from at inference."""
    noise = seeded_noise(noise_nc, size, seeds)
    if style_scale != 1.0:
        noise[:, :noise_nc // 2] *= style_scale
    return noise


def resample_region(noise: torch.Tensor, region: torch.Tensor, fresh: torch.Tensor) -> torch.Tensor:
    """``noise`` with ``fresh`` noise inside ``region`` ((H, W) or (N, H, W) boolean)."""
    assert noise.shape == fresh.shape, (tuple(noise.shape), tuple(fresh.shape))
    region = region.to(torch.bool)
    if region.ndim == 2:
        region = region[None]
    assert region.shape[-2:] == noise.shape[-2:], (tuple(region.shape), tuple(noise.shape))
    return torch.where(region[:, None].to(noise.device), fresh, noise)
