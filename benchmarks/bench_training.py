"""Training speed of the presets on this machine: images/s of full G+D iterations.

    python benchmarks/bench_training.py --sizes 64 256 --batch-size 2 --steps 4

Random images and generated label maps; the first iteration is warm-up and not counted.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from engine.anatomy import template_mask
from engine.devices import device_name, resolve_device
from engine.labels import one_hot
from engine.training.config import resolve_config
from engine.training.trainer import Trainer


def images_per_second(preset: str, size: int, batch: int, steps: int, device: torch.device) -> float:
    config = resolve_config(preset, image_size=size, batch_size=batch, device=str(device))
    trainer = Trainer(config, device)
    seg = one_hot(np.stack([template_mask("4CH", "ED", seed=i, size=size) for i in range(batch)])).to(device)
    real = (torch.rand(batch, 1, size, size) * 2 - 1).to(device)
    trainer.generator_step(seg, real)
    trainer.discriminator_step(seg, real)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.generator_step(seg, real)
        trainer.discriminator_step(seg, real)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["seed", "lite"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[64, 256])
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    rows = []
    for preset in args.presets:
        for size in args.sizes:
            speed = images_per_second(preset, size, args.batch_size, args.steps, device)
            rows.append({"preset": preset, "size": size, "batch": args.batch_size, "img_per_s": round(speed, 2)})
            print(f"{preset:<8} {size:>4}px batch {args.batch_size}: {speed:8.2f} img/s", flush=True)
    print(json.dumps({"device": device_name(device), "torch": torch.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
