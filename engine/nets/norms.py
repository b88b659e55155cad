"""Normalisation layers: parameter-free norms and label-conditioned modulation (SPADE, CLADE)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def param_free_norm(kind: str, channels: int) -> nn.Module:
    """A normalisation without learned affine parameters.

    ``syncbatch`` builds a plain ``BatchNorm2d``; training code converts it to
    ``nn.SyncBatchNorm`` when it runs distributed, so the state dict is the same either way.
    """
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind in ("batch", "syncbatch"):
        return nn.BatchNorm2d(channels, affine=False)
    raise ValueError(f"unknown parameter-free norm {kind!r}")


def resize_labels(seg: torch.Tensor, size: torch.Size | tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of a one-hot label map to a feature map's (H, W)."""
    if tuple(seg.shape[-2:]) == tuple(size):
        return seg
    return F.interpolate(seg, size=tuple(size), mode="nearest")


def soft_resize(cond: torch.Tensor, area: torch.Tensor, size: torch.Size | tuple[int, int]) -> torch.Tensor:
    """``cond`` (labels, then any noise) resized to (H, W) with the part ``area`` of its label
    channels averaged over each cell instead of sampled at one pixel: the labels read
    ``nearest(labels - area) + cell mean(area)``, the noise channels nearest as ever. With
    ``area`` the whole one-hot map a cell reads each class's share of its pixels, so an outline
    that moves by a pixel changes it a little, not all at once (see
    :class:`~.generator.SPADEGenerator`). Sides must be whole multiples of (H, W)."""
    if tuple(cond.shape[-2:]) == tuple(size):
        return cond
    classes = area.shape[1]
    labels = resize_labels(cond[:, :classes] - area, size) + F.interpolate(area, size=tuple(size), mode="area")
    if cond.shape[1] == classes:
        return labels
    return torch.cat([labels, resize_labels(cond[:, classes:], size)], 1)


class SPADE(nn.Module):
    """Spatially-adaptive denormalisation: ``norm(x) * (1 + gamma(seg)) + beta(seg)``.

    Args:
        norm_nc: channels of the feature map being normalised.
        label_nc: channels of the one-hot label map.
        norm: parameter-free norm kind (see :func:`param_free_norm`).
        kernel_size: kernel of the MLP convolutions.
        hidden: channels of the shared MLP layer.
        noise_nc: channels of noise concatenated to the labels (OASIS); the MLP sees both.
    """

    def __init__(self, norm_nc: int, label_nc: int, norm: str = "syncbatch",
                 kernel_size: int = 3, hidden: int = 128, noise_nc: int = 0) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.param_free_norm = param_free_norm(norm, norm_nc)
        self.mlp_shared = nn.Sequential(
            nn.Conv2d(label_nc + noise_nc, hidden, kernel_size, padding=pad), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)

    def forward(self, x: torch.Tensor, seg: torch.Tensor,
                normalized: torch.Tensor | None = None) -> torch.Tensor:
        """``normalized``: ``param_free_norm(x)`` when the caller has it (a shared batch norm)."""
        normalized = self.param_free_norm(x) if normalized is None else normalized
        actv = self.mlp_shared(resize_labels(seg, x.shape[-2:]))
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)


class CLADE(nn.Module):
    """Class-adaptive denormalisation (Tan et al. 2021): one gamma/beta vector per class.

    ``gamma`` and ``beta`` are looked up from the label at each pixel instead of being computed
    by convolutions, which removes almost all of SPADE's cost.

    With a noise input, a per-pixel linear projection of the noise is added to the class
    vectors: ``gamma = gamma[class] + G z``, ``beta = beta[class] + B z`` (``noise_gamma``,
    ``noise_beta``, 1x1 convolutions without bias).

    Args:
        norm_nc: channels of the feature map being normalised.
        label_nc: number of classes (channels of the one-hot label map).
        norm: parameter-free norm kind.
        noise_nc: channels of noise that follow the labels in the conditioning input.
    """

    def __init__(self, norm_nc: int, label_nc: int, norm: str = "syncbatch", noise_nc: int = 0) -> None:
        super().__init__()
        self.label_nc = label_nc
        self.param_free_norm = param_free_norm(norm, norm_nc)
        self.class_gamma = nn.Parameter(torch.zeros(label_nc, norm_nc))
        self.class_beta = nn.Parameter(torch.zeros(label_nc, norm_nc))
        if noise_nc:
            self.noise_gamma = nn.Conv2d(noise_nc, norm_nc, 1, bias=False)
            self.noise_beta = nn.Conv2d(noise_nc, norm_nc, 1, bias=False)

    def forward(self, x: torch.Tensor, seg: torch.Tensor,
                normalized: torch.Tensor | None = None) -> torch.Tensor:
        """``normalized``: ``param_free_norm(x)`` when the caller has it (a shared batch norm)."""
        normalized = self.param_free_norm(x) if normalized is None else normalized
        seg = resize_labels(seg, x.shape[-2:])
        # 1 + gamma and beta of labels and noise, each a 1x1 convolution over the whole input
        # (the 1 as its bias: one pass less over the largest maps): two dense maps in the
        # input's layout (channel halves of one map are not dense in channels-last, and
        # arithmetic on them is several times slower on the CPU). Not addcmul: its backward
        # multiplies by its scalar, two passes more.
        gamma_w, beta_w = self.class_gamma.t(), self.class_beta.t()  # (C, labels)
        if hasattr(self, "noise_gamma"):
            gamma_w = torch.cat([gamma_w, self.noise_gamma.weight[:, :, 0, 0]], 1)
            beta_w = torch.cat([beta_w, self.noise_beta.weight[:, :, 0, 0]], 1)
        one = torch.ones(gamma_w.shape[0], dtype=gamma_w.dtype, device=gamma_w.device)
        gamma1 = F.conv2d(seg, gamma_w[:, :, None, None], one)
        beta = F.conv2d(seg, beta_w[:, :, None, None])
        return normalized * gamma1 + beta


def modulation_layer(kind: str, norm_nc: int, label_nc: int, norm: str, kernel_size: int,
                     hidden: int, noise_nc: int = 0) -> nn.Module:
    if kind == "spade":
        return SPADE(norm_nc, label_nc, norm, kernel_size, hidden, noise_nc)
    if kind == "clade":
        return CLADE(norm_nc, label_nc, norm, noise_nc)
    raise ValueError(f"unknown modulation {kind!r}")
