"""The speckle losses' autocorrelation two ways, timed in one run: a pass over the image per
lag (how ``residual_autocorrelation`` worked before) against one FFT per map for every lag at
once (``lagged_sums``, how it works now). Both give the same correlations; the script prints
their largest difference beside the times.

    python benchmarks/bench_autocorrelation.py --batch 16 --size 256 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from engine.training.losses import acf_lags, lagged_sums  # noqa: E402


def per_lag(residual: torch.Tensor, weights: torch.Tensor, lags) -> torch.Tensor:
    """(N, B, L) mean products of pairs in each region, one pass over the image per lag."""
    height, width = residual.shape[-2:]
    out = []
    for dy, dx in lags:
        x0, x1 = max(0, -dx), width - max(0, dx)
        here, there = residual[:, :, :height - dy, x0:x1], residual[:, :, dy:, x0 + dx:x1 + dx]
        both = weights[:, :, :height - dy, x0:x1] * weights[:, :, dy:, x0 + dx:x1 + dx]
        out.append((both * here * there).sum(dim=(2, 3)) / both.sum(dim=(2, 3)).clamp(min=1.0))
    return torch.stack(out, dim=2)


def by_fft(residual: torch.Tensor, weights: torch.Tensor, lags) -> torch.Tensor:
    return lagged_sums(weights * residual, lags) / lagged_sums(weights, lags).clamp(min=1.0)


def timed(function, residual, weights, lags, repeats: int) -> float:
    """Mean seconds of one forward and backward pass."""
    start = time.perf_counter()
    for _ in range(repeats):
        function(residual, weights, lags).sum().backward()
    return (time.perf_counter() - start) / repeats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    residual = torch.randn(args.batch, 1, args.size, args.size, generator=gen).requires_grad_(True)
    weights = (torch.rand(args.batch, args.regions, args.size, args.size, generator=gen) > 0.5).float()
    lags = acf_lags()
    with torch.no_grad():
        difference = float((per_lag(residual, weights, lags) - by_fft(residual, weights, lags)).abs().max())
    slow = timed(per_lag, residual, weights, lags, args.repeats)
    fast = timed(by_fft, residual, weights, lags, args.repeats)
    print(f"{len(lags)} lags, {args.batch} x {args.size}^2, {args.regions} regions, {args.threads} thread(s): "
          f"per lag {slow * 1000:.0f} ms, FFT {fast * 1000:.0f} ms per forward and backward "
          f"({slow / fast:.1f}x); largest difference {difference:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
