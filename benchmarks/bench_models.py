"""Milliseconds per image of several models through ``Synthesizer``, side by side in one run.

Each round draws one image from every model in turn (a new seed each time, so every call is
a full pass, one 256x256 shape-model heart inside its median fan); the medians are comparable
with each other because the models share the machine's state, which on a shared machine
matters more than any one time:

    python benchmarks/bench_models.py --model PREVIOUS.safetensors --model demo --threads 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.anatomy import template_mask  # noqa: E402
from engine.cli.options import int_in_range  # noqa: E402
from engine.fan import default_fan  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402


def time_models(models: list[str], rounds: int = 20, size: int = 256, device: str = "cpu") -> dict[str, float]:
    """{model: median seconds per image} over ``rounds`` interleaved rounds (after 3 warm-up calls)."""
    mask = template_mask("4CH", "ED", seed=0, size=size)
    fan = default_fan("4CH")
    synths = {model: Synthesizer(model, device=device) for model in models}
    for synth in synths.values():
        for seed in range(3):
            synth.synthesize(mask, seed=seed, fan=fan)
    times: dict[str, list[float]] = {model: [] for model in models}
    for round_ in range(rounds):
        for model, synth in synths.items():
            start = time.perf_counter()
            synth.synthesize(mask, seed=1000 + round_, fan=fan)
            times[model].append(time.perf_counter() - start)
    return {model: float(np.median(values)) for model, values in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, help="a model (repeat for several)")
    parser.add_argument("--rounds", type=int_in_range(1, 100_000), default=20,
                        help="timed rounds, one image per model each (default 20; the median is reported)")
    parser.add_argument("--size", type=int_in_range(32, 1024), default=256, help="mask size in pixels (default 256)")
    parser.add_argument("--threads", type=int_in_range(1, 1024), default=None,
                        help="torch threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps")
    args = parser.parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    for model, seconds in time_models(args.model, args.rounds, args.size, args.device).items():
        print(f"{model}: {seconds * 1000:.1f} ms per image (median of {args.rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
