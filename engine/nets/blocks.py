"""The SPADE residual block."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

from .norms import modulation_layer


def leaky(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class SPADEResBlock(nn.Module):
    """Two modulated 3x3 convolutions with a residual path (learned 1x1 when widths differ).

    Args:
        fin: input channels.
        fout: output channels.
        label_nc: channels of the one-hot label map.
        norm: parameter-free norm kind inside the modulation layers.
        modulation: ``spade`` or ``clade``.
        spectral: spectral normalisation on ``conv_0``, ``conv_1`` and ``conv_s``.
        kernel_size: kernel of SPADE's MLP convolutions.
        hidden: width of SPADE's shared MLP layer.
        noise_nc: noise channels that follow the labels in ``seg`` (0: labels only).
    """

    def __init__(self, fin: int, fout: int, label_nc: int, norm: str = "syncbatch",
                 modulation: str = "spade", spectral: bool = True, kernel_size: int = 3,
                 hidden: int = 128, noise_nc: int = 0) -> None:
        super().__init__()
        self.fin, self.fout = fin, fout
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        wrap = spectral_norm if spectral else (lambda module: module)
        self.conv_0 = wrap(nn.Conv2d(fin, fmiddle, 3, padding=1))
        self.conv_1 = wrap(nn.Conv2d(fmiddle, fout, 3, padding=1))
        if self.learned_shortcut:
            self.conv_s = wrap(nn.Conv2d(fin, fout, 1, bias=False))
        args = (label_nc, norm, kernel_size, hidden, noise_nc)
        self.norm_0 = modulation_layer(modulation, fin, *args)
        self.norm_1 = modulation_layer(modulation, fmiddle, *args)
        if self.learned_shortcut:
            self.norm_s = modulation_layer(modulation, fin, *args)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == self.fin, f"expected {self.fin} channels, got {x.shape[1]}"
        normalized = shared_batch_norm(self.norm_0, self.norm_s, x) if self.learned_shortcut else None
        shortcut = self.conv_s(self.norm_s(x, seg, normalized)) if self.learned_shortcut else x
        dx = self.conv_0(leaky(self.norm_0(x, seg, normalized)))
        dx = self.conv_1(leaky(self.norm_1(dx, seg)))
        return shortcut + dx


def shared_batch_norm(first: nn.Module, second: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``first.param_free_norm(x)``, also standing for ``second``'s, when the two are the same
    computation: training-mode batch norms (not synchronised) of one configuration whose
    running statistics are equal. Then both normalise ``x`` by its batch statistics and both
    update their running statistics from them; the update is run once and copied, which is
    what the second would compute. A shortcut's norm and the block's first norm read the same
    ``x``, so this saves a batch norm pass (forward and backward) over the block's input.
    None when they differ, and off the CPU (the check reads the statistics back, a device
    sync per block on a GPU): each then runs its own."""
    a, b = first.param_free_norm, second.param_free_norm
    if not (x.device.type == "cpu" and type(a) is type(b) is nn.BatchNorm2d and a.training and b.training and a.track_running_stats
            and b.track_running_stats and a.momentum == b.momentum and a.eps == b.eps
            and torch.equal(a.running_mean, b.running_mean) and torch.equal(a.running_var, b.running_var)
            and torch.equal(a.num_batches_tracked, b.num_batches_tracked)):
        return None
    normalized = a(x)
    with torch.no_grad():
        b.running_mean.copy_(a.running_mean)
        b.running_var.copy_(a.running_var)
        b.num_batches_tracked.copy_(a.num_batches_tracked)
    return normalized
