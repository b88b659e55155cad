"""Folding normalisations into plain tensors for inference."""

from __future__ import annotations

import torch
import torch.nn as nn


def conv_weight(conv: nn.Conv2d) -> torch.Tensor:
    """The effective weight of a conv: with spectral norm (eval mode), W / sigma."""
    if hasattr(conv, "weight_orig"):
        w = conv.weight_orig.detach()
        u, v = conv.weight_u.detach(), conv.weight_v.detach()
        sigma = torch.dot(u, torch.mv(w.reshape(w.shape[0], -1), v))
        return w / sigma
    return conv.weight.detach()


def conv_bias(conv: nn.Conv2d) -> torch.Tensor | None:
    return None if conv.bias is None else conv.bias.detach()


def batchnorm_affine(norm: nn.Module) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Eval-mode batch norm as ``x * scale + shift`` (None for instance norm)."""
    if not isinstance(norm, nn.modules.batchnorm._BatchNorm) or norm.running_mean is None:
        return None
    scale = torch.rsqrt(norm.running_var.detach() + norm.eps)
    shift = -norm.running_mean.detach() * scale
    if norm.affine:
        shift = shift * norm.weight.detach() + norm.bias.detach()
        scale = scale * norm.weight.detach()
    return scale, shift


def fold_affine_after_conv(weight: torch.Tensor, bias: torch.Tensor | None,
                           scale: torch.Tensor, shift: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """conv followed by a per-channel ``* scale + shift`` as one conv."""
    bias = torch.zeros_like(scale) if bias is None else bias
    return weight * scale[:, None, None, None], bias * scale + shift
