"""CUDA graphs for synthesis: one captured graph per input shape, replayed on every call.

A SPADE generator at 256 x 256 launches several hundred small kernels; at batch 1 launching
them costs more than running them. A CUDA graph records the launches once and replays them
with one call. The recorded network is a :class:`FastGenerator` in ``dense`` mode (no host
synchronisation inside). It records the one-hot labels only: soft labels (a cine loop's
in-between frames, :mod:`engine.soft_labels`) run the same :class:`FastGenerator` without a
graph (:meth:`engine.synthesizer.Synthesizer.synthesize`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..nets.noise import sample_noise
from .generator import FastGenerator


@dataclass
class CapturedCall:
    graph: "torch.cuda.CUDAGraph"
    labels: torch.Tensor  # static input: (N, H, W) uint8 label ids
    z: torch.Tensor | None  # static input: (N, z_dim) for VAE models
    noise: torch.Tensor | None  # static input: (N, noise_nc, H, W) for noise-input models
    out: torch.Tensor  # static output


class GraphedGenerator:
    """Runs ``fast`` through CUDA graphs, keyed by input shape.

    Args:
        fast: a :class:`FastGenerator` on a CUDA device, in ``dense`` mode.
        max_graphs: captured shapes kept (least recently used dropped): each holds its own
            activation memory.
    """

    def __init__(self, fast: FastGenerator, max_graphs: int = 4) -> None:
        assert fast.device.type == "cuda", "CUDA graphs need a CUDA device"
        assert fast.mode == "dense", "the sparse path synchronises and cannot be captured"
        self.fast = fast
        self.config = fast.config
        self.max_graphs = max_graphs
        self.calls: OrderedDict[tuple, CapturedCall] = OrderedDict()

    def body(self, labels: torch.Tensor, z: torch.Tensor | None, noise: torch.Tensor | None):
        seg = F.one_hot(labels.long(), self.config.classes).permute(0, 3, 1, 2).float()
        return self.fast(seg, z, labels, noise)

    def capture(self, labels: torch.Tensor, z: torch.Tensor | None,
                noise: torch.Tensor | None) -> CapturedCall:
        static_labels = labels.clone()
        static_z = None if z is None else z.clone()
        static_noise = None if noise is None else noise.clone()
        side = torch.cuda.Stream(labels.device)
        side.wait_stream(torch.cuda.current_stream(labels.device))
        with torch.cuda.stream(side), torch.inference_mode():
            for _ in range(2):  # warm-up: cuDNN picks its algorithms outside the capture
                self.body(static_labels, static_z, static_noise)
        torch.cuda.current_stream(labels.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), torch.inference_mode():
            out = self.body(static_labels, static_z, static_noise)
        return CapturedCall(graph, static_labels, static_z, static_noise, out)

    @torch.inference_mode()
    def __call__(self, labels: torch.Tensor, z: torch.Tensor | None = None,
                 noise: torch.Tensor | None = None) -> torch.Tensor:
        """``labels`` (N, H, W) integer ids on the device -> float32 (N, output_nc, H, W)."""
        assert labels.ndim == 3 and labels.device.type == "cuda", tuple(labels.shape)
        labels = labels.to(torch.uint8)
        if self.config.use_vae and z is None:
            z = torch.randn(labels.shape[0], self.config.z_dim, device=labels.device)
        if self.config.noise_nc and noise is None:
            noise = sample_noise(self.config.noise_nc, labels.shape[0], labels.shape[-2:],
                                 device=labels.device)
        key = (tuple(labels.shape), None if z is None else tuple(z.shape))
        call = self.calls.get(key)
        if call is None:
            call = self.capture(labels, z, noise)
            self.calls[key] = call
            while len(self.calls) > self.max_graphs:
                self.calls.popitem(last=False)
        self.calls.move_to_end(key)
        call.labels.copy_(labels)
        if z is not None:
            call.z.copy_(z)
        if noise is not None:
            call.noise.copy_(noise)
        call.graph.replay()
        return call.out.clone()
