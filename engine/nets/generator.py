"""The SPADE generator (NVlabs ``SPADEGenerator``, same state-dict names)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .beam import beam_noise
from .blocks import SPADEResBlock, leaky
from .config import GeneratorConfig
from .output_stage import finish_output
from .noise import sample_noise
from .texture import TextureNoise
from .norms import resize_labels, soft_resize


class SPADEGenerator(nn.Module):
    """Label map (one-hot) -> image in [-1, 1].

    The label map is nearest-downsampled to the latent grid (H / 2**n_up), turned into
    16·ngf channels by a 3x3 conv ``fc`` (or, with the VAE, a linear layer from the style
    vector z), then upsampled through SPADE residual blocks to full size. With a noise input
    (``noise_nc`` > 0) a noise map is concatenated to the label map wherever it enters.

    The coarse levels sample the labels at one pixel per cell, so an outline crossing that
    pixel changes a whole cell's input at once. ``area`` (a cine loop's in-between frames,
    :mod:`engine.soft_labels`) names the part of the one-hot map they average over each
    cell instead (:func:`.norms.soft_resize`): soft labels, whose modulation blends the
    classes' by their share of the cell. Full-size levels read the map itself either way.

    Args:
        config: the architecture; see :class:`GeneratorConfig` for every field.
    """

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        self.config = config
        nf = config.ngf
        sh, sw = config.latent_size
        if config.use_vae:
            self.fc = nn.Linear(config.z_dim, 16 * nf * sh * sw)
        else:
            self.fc = nn.Conv2d(config.cond_nc, 16 * nf, 3, padding=1)

        def block(fin: int, fout: int) -> SPADEResBlock:
            return SPADEResBlock(fin, fout, config.classes, config.norm, config.modulation,
                                 config.spectral, config.kernel_size, config.hidden, config.noise_nc)

        self.head_0 = block(16 * nf, 16 * nf)
        self.G_middle_0 = block(16 * nf, 16 * nf)
        self.G_middle_1 = block(16 * nf, 16 * nf)
        self.up_0 = block(16 * nf, 8 * nf)
        self.up_1 = block(8 * nf, 4 * nf)
        self.up_2 = block(4 * nf, 2 * nf)
        self.up_3 = block(2 * nf, 1 * nf)
        final_nc = nf
        if config.upsampling == "most":
            self.up_4 = block(nf, nf // 2)
            final_nc = nf // 2
        self.conv_img = nn.Conv2d(final_nc, config.output_nc, 3, padding=1)
        if config.texture:
            self.texture = TextureNoise(final_nc, config.classes, config.detail_nc)

    # -- shapes -------------------------------------------------------------------------
    def check_input_size(self, height: int, width: int) -> str | None:
        """Why a (height, width) label map cannot be used, or None if it can."""
        step = 2 ** self.config.n_up
        if self.config.use_vae:
            expected = (self.config.image_height, self.config.image_size)
            if (height, width) != expected:
                return (f"this model (style encoder, fixed size) takes {expected[1]}x{expected[0]} "
                        f"label maps, got {width}x{height}")
        elif height % step or width % step or height < step or width < step:
            return (f"this model takes label maps whose sides are multiples of {step}, "
                    f"got {width}x{height}")
        elif self.config.norm == "instance" and height * width == step * step:
            return (f"this model (instance norm) needs label maps of at least {2 * step} pixels "
                    f"on one side, got {width}x{height}")
        return None

    def latent_grid(self, seg: torch.Tensor) -> tuple[int, int]:
        step = 2 ** self.config.n_up
        return seg.shape[-2] // step, seg.shape[-1] // step

    # -- forward ------------------------------------------------------------------------
    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                noise: torch.Tensor | None = None, area: torch.Tensor | None = None) -> torch.Tensor:
        """``seg`` one-hot (N, classes, H, W) (the labels, then "outside the fan" for fan
        models: :func:`engine.fan.fan_classes`); ``z`` the style vector (VAE models);
        ``noise`` (N, noise_nc, H, W) for noise-input models (drawn at random when None);
        ``area`` (N, classes, H, W) the part of ``seg`` the coarse levels average over each
        cell (None: they sample it all at one pixel, as NVlabs SPADE)."""
        cfg = self.config
        assert seg.ndim == 4 and seg.shape[1] == cfg.classes, \
            f"expected (N, {cfg.classes}, H, W) one-hot classes, got {tuple(seg.shape)}"
        problem = self.check_input_size(seg.shape[-2], seg.shape[-1])
        assert problem is None, problem
        layout, dtype = memory_layout(seg), seg.dtype
        sh, sw = self.latent_grid(seg)
        drawn = None
        if cfg.noise_nc:
            if noise is None:
                noise = sample_noise(cfg.noise_nc, seg.shape[0], seg.shape[-2:], device=seg.device)
            assert noise.shape == (seg.shape[0], cfg.noise_nc, *seg.shape[-2:]), \
                f"noise has shape {tuple(noise.shape)}"
            drawn = noise
            seg = torch.cat([seg, beam_noise(noise, cfg.beam).to(seg.dtype)], 1)
        seg = conditioning_input(seg, layout)
        if area is not None:
            assert area.shape == (seg.shape[0], cfg.classes, *seg.shape[-2:]), \
                f"area has shape {tuple(area.shape)}"
            area = conditioning_input(area.to(seg.dtype), layout)

        def resized(size: tuple[int, int]) -> torch.Tensor:
            return resize_labels(seg, size) if area is None else soft_resize(seg, area, size)
        if cfg.use_vae:
            if z is None:
                z = torch.randn(seg.shape[0], cfg.z_dim, device=seg.device, dtype=dtype)
            assert z.shape == (seg.shape[0], cfg.z_dim), f"z has shape {tuple(z.shape)}"
            x = self.fc(z).view(-1, 16 * cfg.ngf, sh, sw)
        else:
            x = self.fc(resized((sh, sw)))

        levels: dict[tuple[int, int], torch.Tensor] = {}

        def at(features: torch.Tensor) -> torch.Tensor:
            """The conditioning input at this feature size, resized once per level."""
            size = tuple(features.shape[-2:])
            if size not in levels:
                levels[size] = resized(size)
            return levels[size]

        level = 0
        for name, block_level in block_schedule(cfg):
            while level < block_level:  # x2 before each finer block
                x = upsample(x, cfg.upsample)
                level += 1
            x = getattr(self, name)(x, at(x))
        if cfg.texture:  # seg holds classes, then the noise: its second half is per-pixel
            x = self.texture(x, seg[:, :cfg.classes], seg[:, cfg.classes + cfg.noise_nc // 2:])
        x = torch.tanh(self.conv_img(leaky(x)))
        assert x.shape[-2:] == seg.shape[-2:], (tuple(x.shape), tuple(seg.shape))
        return finish_output(x, drawn, cfg)


def block_schedule(config: GeneratorConfig) -> list[tuple[str, int]]:
    """The residual blocks in forward order with their resolution exponent (feature size =
    the latent size x 2**exponent): the one schedule of the plain and the fast generator.
    ``upsampling`` "more" adds a level between the middle blocks, "most" a sixth up block."""
    more = config.upsampling in ("more", "most")
    blocks = [("head_0", 0), ("G_middle_0", 1), ("G_middle_1", 2 if more else 1)]
    ups = ["up_0", "up_1", "up_2", "up_3"] + (["up_4"] if config.upsampling == "most" else [])
    first = blocks[-1][1] + 1
    return blocks + [(name, first + i) for i, name in enumerate(ups)]


def memory_layout(x: torch.Tensor) -> torch.memory_format:
    """channels_last for a 4-D tensor stored that way (and not also plain contiguous), else
    contiguous_format."""
    if x.ndim == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


def conditioning_input(seg: torch.Tensor, layout: torch.memory_format) -> torch.Tensor:
    """The labels (and noise) every modulation layer reads, stored once in ``layout`` (the
    layout the caller gave the labels in: channels-last training keeps every feature map
    channels-last) and, under autocast, cast once to its dtype: every layer that reads it is a
    convolution, which autocast would cast anyway (nearest resizing commutes with the cast),
    so the result is the same, without a cast per layer."""
    seg = seg.contiguous(memory_format=layout)
    device = seg.device.type
    if seg.is_floating_point() and device in ("cpu", "cuda", "mps", "xpu") \
            and torch.is_autocast_enabled(device):
        seg = seg.to(torch.get_autocast_dtype(device))
    return seg


def upsample(x: torch.Tensor, mode: str = "nearest") -> torch.Tensor:
    """x2: nearest-neighbour as ``nn.Upsample(scale_factor=2)`` in NVlabs SPADE, or bilinear
    (pixel centres aligned, as ``align_corners=False``)."""
    if mode == "bilinear":
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    return F.interpolate(x, scale_factor=2.0, mode="nearest")
