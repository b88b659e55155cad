"""Conv layers with NVlabs SPADE's non-SPADE normalisation (``spectralinstance`` etc.)."""

from __future__ import annotations

import torch.nn as nn
from torch.nn.utils import spectral_norm


def normed_conv(conv: nn.Conv2d, norm: str) -> nn.Module:
    """Wrap ``conv`` the way NVlabs' ``get_nonspade_norm_layer`` does.

    ``norm`` is ``[spectral](instance|batch|syncbatch|none)`` (:data:`.config.LAYER_NORMS`). With a following norm the
    conv's bias is removed (it would be cancelled anyway), and the result is
    ``Sequential(conv, norm)``, so state-dict names are ``<name>.0.weight_orig`` etc.
    """
    sub = norm
    if norm.startswith("spectral"):
        conv = spectral_norm(conv)
        sub = norm[len("spectral"):]
    if sub in ("", "none"):
        return conv
    if getattr(conv, "bias", None) is not None:
        del conv.bias
        conv.register_parameter("bias", None)
    channels = conv.out_channels
    if sub == "instance":
        layer: nn.Module = nn.InstanceNorm2d(channels, affine=False)
    elif sub in ("batch", "syncbatch", "sync_batch"):
        layer = nn.BatchNorm2d(channels, affine=True)
    else:
        raise ValueError(f"unknown norm {norm!r}")
    return nn.Sequential(conv, layer)
