"""What every generator path does to the network's image before returning it: the output tone
(:mod:`.tone`), then the pixel grain (:mod:`.grain`). The plain, fast, incremental and graphed
generators all end here, so they agree to the bit."""

from __future__ import annotations

import torch

from .grain import add_grain
from .tone import apply_tone


def finish_output(image: torch.Tensor, drawn: torch.Tensor | None, config) -> torch.Tensor:
    """``image`` from the network's last layer (N, C, H, W) in [-1, 1]; ``drawn`` the noise map
    as drawn (before the beam transform), or None; ``config`` the model's GeneratorConfig."""
    return add_grain(apply_tone(image, config.tone), drawn, config.grain)
