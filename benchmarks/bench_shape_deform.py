"""Training's shape-model deformation: milliseconds per pair, cold (landmarks found and fitted)
and warm (landmarks cached), against the elastic deformation (target: <= 30 ms warm, 256x256).

    python benchmarks/bench_shape_deform.py --data data/camus256 --pairs 60
    python benchmarks/bench_shape_deform.py               # shape-model pairs, no real data needed

Without ``--data`` the pairs are shape-model masks with a noise image. Timed in one process
with torch's default threads, or ``--threads 1`` as in a DataLoader worker.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np


def load_pairs(data: Path | None, count: int, size: int) -> list:
    from engine.anatomy import PHASES, VIEWS, ShapeModel
    from engine.data.imaging import read_png

    if data is None:
        model, rng = ShapeModel.default(), np.random.default_rng(0)
        return [(rng.random((size, size), dtype=np.float32), model.mask(model.draw(i), VIEWS[i % 2],
                 PHASES[(i // 2) % 2], size), VIEWS[i % 2], PHASES[(i // 2) % 2]) for i in range(count)]
    stems = sorted(p.stem for p in (data / "train" / "label").glob("*.png"))[:count]
    return [(read_png(data / "train" / "img" / f"{s}.png").astype(np.float32) / 255,
             read_png(data / "train" / "label" / f"{s}.png").astype(np.uint8), *s.split("_")[1:3]) for s in stems]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="a prepared dataset (its train split)")
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default; a DataLoader worker: 1)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    from engine.data.deform import DeformConfig, deform_pair
    from engine.data.shape_deform import FitCache
    from engine.fan import default_fan, fan_alpha

    pairs = load_pairs(args.data, args.pairs, args.size)
    fans = {view: fan_alpha(default_fan(view), *pairs[0][1].shape) for view in ("2CH", "4CH")}
    shape, elastic = DeformConfig(kind="shape", transplant=0.0), DeformConfig(kind="elastic", transplant=0.0)
    deform_pair(*pairs[0][:2], np.random.default_rng(0), shape, fan=fans[pairs[0][2]])  # imports, caches
    cache = FitCache(len(pairs))

    def run(config, seed0: int) -> list[float]:
        times = []
        for i, (image, labels, view, phase) in enumerate(pairs):
            start = time.perf_counter()
            deform_pair(image, labels, np.random.default_rng(seed0 + i), config, fan=fans[view], view=view,
                        phase=phase, cache=cache, key=i)
            times.append((time.perf_counter() - start) * 1000)
        return times

    cold = run(shape, 0)
    warm = [t for r in range(args.repeats) for t in run(shape, 1000 * (r + 1))]
    plain = [t for r in range(args.repeats) for t in run(elastic, 1000 * (r + 1))]
    fitted = int((cache.table[:, 0] > 0).sum())
    print(f"{len(pairs)} pairs {pairs[0][1].shape[0]}x{pairs[0][1].shape[1]}, landmarks found for {fitted}")
    for name, times in (("shape, cold", cold), ("shape, warm", warm), ("elastic", plain)):
        print(f"{name:12s} median {statistics.median(times):6.1f} ms   p90 {np.percentile(times, 90):6.1f} ms")


if __name__ == "__main__":
    main()
