"""Starting a run from a trained model's generator (``--init-from``): fine-tuning.

Every weight whose name and shape agree is copied. One change of shape is understood: a
model without the fan class given to a fan run. Its one-hot input gains a channel after the
labels ("outside the fan"), so every tensor that reads the one-hot input (the first
convolution, CLADE's class tables, SPADE's shared MLP) gets that channel inserted, started
as a copy of the background's: outside the fan begins as background and learns to be black.
Anything else that differs starts fresh, and the caller is told which; a speckle path the
source lacks (``texture``) starts with its projection at zero, so the run begins from the
source's own images.
"""

from __future__ import annotations

import torch

from ..errors import CardiganError
from ..models import open_model
from ..models.handle import GeneratorModel
from ..nets import SPADEGenerator


def _insert_class(old: torch.Tensor, new_shape: torch.Size, dim: int, at: int) -> torch.Tensor | None:
    """``old`` with a copy of index 0 (background) inserted at ``at`` along ``dim``, when that
    gives ``new_shape``; None otherwise."""
    if old.ndim != len(new_shape) or old.shape[dim] + 1 != new_shape[dim]:
        return None
    background = old.narrow(dim, 0, 1)
    out = torch.cat([old.narrow(dim, 0, at), background, old.narrow(dim, at, old.shape[dim] - at)], dim)
    return out if out.shape == new_shape else None


def warm_start(generator: SPADEGenerator, spec: str) -> list[str]:
    """Copy the weights of the model ``spec`` into ``generator``; returns the names of the
    tensors that kept their fresh initialisation."""
    try:
        model = open_model(spec)
    except CardiganError as exc:
        raise CardiganError(f"--init-from: {exc}") from None
    if not isinstance(model, GeneratorModel):
        raise CardiganError(f"--init-from {spec}: not a generator model (the simulator has no weights)")
    source = model.generator.state_dict()
    target = generator.state_dict()
    at = model.config.label_nc  # where the fan class goes
    grows = generator.config.fan and not model.config.fan
    fresh = []
    for name, value in target.items():
        old = source.get(name)
        if old is not None and old.shape == value.shape:
            target[name] = old.to(value.dtype)
            continue
        adapted = None
        if old is not None and grows:
            if name.endswith(("class_gamma", "class_beta")):
                adapted = _insert_class(old, value.shape, 0, at)
            elif name == "fc.weight" or name.endswith("mlp_shared.0.weight"):
                adapted = _insert_class(old, value.shape, 1, at)
        if adapted is not None:
            target[name] = adapted.to(value.dtype)
        else:
            fresh.append(name)
            if name == "texture.project.weight":  # a new speckle path starts silent
                target[name] = torch.zeros_like(value)
    generator.load_state_dict(target)
    return fresh
