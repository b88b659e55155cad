"""A rough estimate of the memory a training run needs, for choosing a batch size.

This is an estimate, not a measurement: it counts the parameters of G (+E) and D exactly
(the networks are built on PyTorch's ``meta`` device, which allocates nothing) and the
activations a forward pass saves for the backward pass by summing the outputs of every leaf
module for one image. Real usage differs: in-place operations save less, cuDNN workspaces
and the allocator's caching add more, and some layers stay in float32 under autocast. Use it
to tell "fits easily" from "will not fit", not to pick the last megabyte.

Model of one training iteration at batch size B:

- state: float32 weights, gradients and the two Adam moments of G, E and D, 16 bytes each;
- activations: the peak of the generator step, where G runs on B images and D on 2B
  (fake and real in one pass), both saving activations: (A_G + 2 A_D) x B elements, at 2
  bytes each with bf16/fp16 autocast and 4 in float32;
- overhead: 20 % of the above for workspaces and fragmentation, plus 512 MiB for the
  CUDA context on a GPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn as nn

from .config import TrainConfig
from .networks import IMAGE_CHANNELS, build_networks
from .config import ARCHITECTURE_FIELDS

STATE_BYTES_PER_PARAMETER = 16  # weight + gradient + Adam exp_avg + exp_avg_sq, float32
OVERHEAD_FRACTION = 0.2
CUDA_CONTEXT_BYTES = 512 * 2**20


@dataclass(frozen=True)
class NetworkFootprint:
    """What the networks of one configuration cost, independent of the batch size."""

    parameters: int  # G (+ style encoder) + D
    generator_activations: int  # elements saved by G (+E) for one image
    discriminator_activations: int  # elements saved by D for one (label, image) pair


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated bytes for one training process (see the module docstring for the model)."""

    batch_size: int
    parameters: int
    state_bytes: int
    activation_bytes: int
    overhead_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.state_bytes + self.activation_bytes + self.overhead_bytes


def _leaf_output_elements(module: nn.Module, *inputs: torch.Tensor) -> int:
    """Sum of the elements every leaf module outputs in one forward pass (on meta tensors)."""
    total = 0

    def count(_module: nn.Module, _inputs, output) -> None:
        nonlocal total
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        total += sum(o.numel() for o in outputs if isinstance(o, torch.Tensor))

    handles = [m.register_forward_hook(count) for m in module.modules() if not list(m.children())]
    try:
        module(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return total


def _architecture_key(config: TrainConfig) -> tuple:
    return tuple(getattr(config, name) for name in ARCHITECTURE_FIELDS)


@lru_cache(maxsize=32)
def _footprint(key: tuple) -> NetworkFootprint:
    config = TrainConfig(**dict(zip(ARCHITECTURE_FIELDS, key)))
    with torch.device("meta"):
        stack, disc = build_networks(config)
    stack.train()
    disc.train()
    size = config.image_size
    height = round(size / config.generator_config().aspect_ratio)
    seg = torch.zeros(1, config.classes, height, size, device="meta")
    real = torch.zeros(1, IMAGE_CHANNELS, height, size, device="meta")
    parameters = sum(p.numel() for p in stack.parameters()) + sum(p.numel() for p in disc.parameters())
    gen = _leaf_output_elements(stack, seg, real)
    # the patch critic sees the labels beside the image; the segmentation critic (oasis) the image alone
    seen = IMAGE_CHANNELS if config.discriminator == "oasis" else config.classes + IMAGE_CHANNELS
    dis = _leaf_output_elements(disc, torch.zeros(1, seen, height, size, device="meta"))
    return NetworkFootprint(parameters, gen, dis)


def network_footprint(config: TrainConfig) -> NetworkFootprint:
    """Parameters and per-image activations of ``config``'s networks (cached per architecture)."""
    return _footprint(_architecture_key(config))


def activation_bytes_per_element(config: TrainConfig, device: str = "auto") -> int:
    """2 under bf16/fp16 autocast, else 4 (``amp=auto`` counts as bf16 on CUDA devices)."""
    if config.amp in ("bf16", "fp16"):
        return 2
    if config.amp == "auto" and str(device).startswith(("cuda", "auto")) and torch.cuda.is_available():
        return 2
    return 4


def estimate_training_memory(config: TrainConfig, batch_size: int | None = None,
                             device: str | None = None, footprint: NetworkFootprint | None = None) -> MemoryEstimate:
    """Estimated memory of training ``config`` at ``batch_size`` (default: the config's) on
    ``device`` (default: the config's), from its networks' ``footprint`` (default: counted
    now). An estimate; see the module docstring."""
    batch = int(config.batch_size if batch_size is None else batch_size)
    device = str(device or config.device)
    footprint = footprint or network_footprint(config)
    state = footprint.parameters * STATE_BYTES_PER_PARAMETER
    elements = (footprint.generator_activations + 2 * footprint.discriminator_activations) * max(batch, 0)
    activations = elements * activation_bytes_per_element(config, device)
    overhead = int(OVERHEAD_FRACTION * (state + activations))
    if device.startswith("cuda") or (device == "auto" and torch.cuda.is_available()):
        overhead += CUDA_CONTEXT_BYTES
    return MemoryEstimate(batch, footprint.parameters, state, activations, overhead)


def device_memory_bytes(device: str) -> int | None:
    """Total memory of ``device`` (a CUDA GPU's, or the machine's RAM for ``cpu``); None
    when unknown (e.g. ``mps``, or a device that does not exist)."""
    device = str(device)
    if device == "auto":
        device = "cuda:0" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return None
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            return None
        return int(torch.cuda.get_device_properties(index).total_memory)
    if device == "cpu":
        try:
            return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            return None
    return None
