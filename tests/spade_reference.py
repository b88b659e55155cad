"""An independent, functional re-statement of NVlabs SPADE's generator forward pass.

It works on a raw state dict with ``torch.nn.functional`` only, so tests can check the
module-based networks (and the importer) against a second reading of the paper's code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def spectral_weight(state: dict, prefix: str) -> torch.Tensor:
    """Eval-mode spectral norm: W / (u . (W_mat v)) with the stored u, v."""
    if prefix + "weight_orig" not in state:
        return state[prefix + "weight"]
    w = state[prefix + "weight_orig"]
    u, v = state[prefix + "weight_u"], state[prefix + "weight_v"]
    sigma = torch.dot(u, w.reshape(w.shape[0], -1) @ v)
    return w / sigma


def param_free(state: dict, prefix: str, x: torch.Tensor) -> torch.Tensor:
    mean_key = prefix + "running_mean"
    if mean_key in state:
        return (x - state[mean_key][None, :, None, None]) / torch.sqrt(
            state[prefix + "running_var"][None, :, None, None] + 1e-5)
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + 1e-5)


def spade(state: dict, prefix: str, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
    w = state[prefix + "mlp_shared.0.weight"]
    pad = w.shape[-1] // 2
    actv = F.relu(F.conv2d(seg, w, state[prefix + "mlp_shared.0.bias"], padding=pad))
    gamma = F.conv2d(actv, state[prefix + "mlp_gamma.weight"], state[prefix + "mlp_gamma.bias"], padding=pad)
    beta = F.conv2d(actv, state[prefix + "mlp_beta.weight"], state[prefix + "mlp_beta.bias"], padding=pad)
    return param_free(state, prefix + "param_free_norm.", x) * (1 + gamma) + beta


def resblock(state: dict, name: str, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    p = name + "."
    if p + "conv_s.weight_orig" in state or p + "conv_s.weight" in state:
        shortcut = F.conv2d(spade(state, p + "norm_s.", x, seg), spectral_weight(state, p + "conv_s."))
    else:
        shortcut = x
    dx = F.leaky_relu(spade(state, p + "norm_0.", x, seg), 0.2)
    dx = F.conv2d(dx, spectral_weight(state, p + "conv_0."), state[p + "conv_0.bias"], padding=1)
    dx = F.leaky_relu(spade(state, p + "norm_1.", dx, seg), 0.2)
    dx = F.conv2d(dx, spectral_weight(state, p + "conv_1."), state[p + "conv_1.bias"], padding=1)
    return shortcut + dx


def generator_forward(state: dict, seg: torch.Tensor, upsampling: str = "normal",
                      z: torch.Tensor | None = None) -> torch.Tensor:
    n_up = {"normal": 5, "more": 6, "most": 7}[upsampling]
    sh, sw = seg.shape[2] // 2 ** n_up, seg.shape[3] // 2 ** n_up
    up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
    if state["fc.weight"].ndim == 2:
        x = F.linear(z, state["fc.weight"], state["fc.bias"]).view(z.shape[0], -1, sh, sw)
    else:
        x = F.conv2d(F.interpolate(seg, size=(sh, sw)), state["fc.weight"], state["fc.bias"], padding=1)
    x = resblock(state, "head_0", x, seg)
    x = up(x)
    x = resblock(state, "G_middle_0", x, seg)
    if upsampling in ("more", "most"):
        x = up(x)
    x = resblock(state, "G_middle_1", x, seg)
    for name in ("up_0", "up_1", "up_2", "up_3"):
        x = resblock(state, name, up(x), seg)
    if upsampling == "most":
        x = resblock(state, "up_4", up(x), seg)
    x = F.conv2d(F.leaky_relu(x, 0.2), state["conv_img.weight"], state["conv_img.bias"], padding=1)
    return torch.tanh(x)
