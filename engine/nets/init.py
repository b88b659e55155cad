"""Weight initialisation as NVlabs SPADE does it (``--init_type xavier --init_variance 0.02``)."""

from __future__ import annotations

import torch.nn as nn

from .norms import CLADE


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """Xavier-normal(gain) for conv/linear weights, zero biases, N(1, gain) for batch-norm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            weight = getattr(m, "weight_orig", m.weight)
            nn.init.xavier_normal_(weight.data, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias.data)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight.data, 1.0, gain)
            nn.init.zeros_(m.bias.data)
        elif isinstance(m, CLADE):
            nn.init.normal_(m.class_gamma.data, 0.0, gain)
            nn.init.normal_(m.class_beta.data, 0.0, gain)
