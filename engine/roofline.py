"""How far a training iteration is from what the machine can do.

- :func:`iteration_flops`: the floating-point operations of one training iteration (the
  generator step and the discriminator step, forward and backward), counted by torch's own
  flop counter (convolutions and matrix products; elementwise work is not counted, so the
  figure is a lower bound on the work and the percentages below are generous).
- :func:`machine_peak`: this machine's measured peak for a dtype, the best of a large matrix
  product and a representative 3x3 convolution, on the threads torch uses.

``achieved / peak`` says what share of the machine an iteration uses; the rest is memory
traffic, elementwise work, Python and waiting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Peak:
    dtype: str
    matmul_gflops: float
    conv_gflops: float

    @property
    def gflops(self) -> float:
        return max(self.matmul_gflops, self.conv_gflops)


def _best_rate(fn, flops: float, repeats: int, device: torch.device) -> float:
    fn()  # warm-up: allocation, kernel choice
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e9


def machine_peak(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                 repeats: int = 3, size: int | None = None) -> Peak:
    """Measured GFLOP/s of a large matrix product and of 3x3 convolutions in ``dtype`` (the
    best of 64 -> 64 channels at 128 x 128 and 128 -> 128 at 64 x 64, channels-last, the
    layout the fast paths use), on the threads torch uses. ``size``: the matrices' side
    (smaller ones, and 4x smaller maps below 1024, for quick tests)."""
    device = torch.device(device)
    n = size or (2048 if device.type == "cpu" else 8192)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    matmul = _best_rate(lambda: torch.mm(a, b), 2.0 * n ** 3, repeats, device)
    batch = 4 if device.type == "cpu" else 32
    shrink = 4 if n < 1024 else 1
    conv = 0.0
    for channels, side in ((64, 128 // shrink), (128, 64 // shrink)):
        if device.type != "cpu":
            channels *= 4
        x = torch.randn(batch, channels, side, side, device=device).to(dtype)
        w = torch.randn(channels, channels, 3, 3, device=device).to(dtype)
        x = x.contiguous(memory_format=torch.channels_last)
        w = w.contiguous(memory_format=torch.channels_last)
        conv_flops = 2.0 * batch * channels * channels * 9 * side * side
        conv = max(conv, _best_rate(lambda: F.conv2d(x, w, padding=1), conv_flops, repeats, device))
    return Peak(str(dtype).replace("torch.", ""), matmul, conv)


def iteration_flops(trainer, batch: dict) -> float:
    """FLOPs of one ``trainer.step`` on ``batch`` (a dataset batch: label, image, fan)."""
    from torch.utils.flop_counter import FlopCounterMode

    seg, real, fan = trainer.inputs(batch)
    counter = FlopCounterMode(display=False)
    with counter:
        trainer.step(seg, real, fan=fan)
    return float(counter.get_total_flops())
