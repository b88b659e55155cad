"""Fit the ultrasound simulator's per-patient style ranges to real echocardiograms.

    python scripts/fit_simulator.py --data data/camus_real

Simulates images from the real expert masks of a prepared dataset's train split and compares
them with the real images of the same masks: per image, the mean grey level of each region
(background inside the scan sector, LV cavity, myocardium, atrium), the texture contrast
(standard deviation) of background and myocardium, and the brightness near the transducer
and at depth. The (low, high) range of every style parameter in ``FITTED``
(engine/simulator/style.py) is adjusted by coordinate descent until the 5th, 50th and 95th
percentiles over patients agree, and the table in style.py is rewritten. Only summary
numbers are kept, never an image.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from engine.data.dataset import PairedDataset  # noqa: E402
from engine.evaluation.realism import sector_mask  # noqa: E402
from engine.simulator import simulate  # noqa: E402
from engine.simulator import style as style_module  # noqa: E402
from range_search import search_ranges  # noqa: E402

BOUNDS = {
    "gain_db": (-30.0, 30.0), "dynamic_range_db": (25.0, 90.0), "log10_tissue": (-3.0, 0.5),
    "tissue_contrast": (0.0, 2.5), "log10_blood": (-4.5, 0.0), "myocardium_texture": (0.0, 1.5),
    "depth_falloff_db": (-10.0, 20.0), "near_field_db": (-10.0, 20.0), "log10_haze": (-4.0, 0.0),
    "dropout_db": (0.0, 25.0), "edge_falloff_db": (0.0, 20.0),
}


def image_stats(image: np.ndarray, labels: np.ndarray, sector: np.ndarray) -> dict[str, float]:
    """The per-image numbers that are matched."""
    height = image.shape[0]
    rows = np.arange(height)[:, None] / height
    out = {}
    for name, region in (("bg", (labels == 0) & sector), ("lv", labels == 1), ("myo", labels == 2),
                         ("la", labels == 3)):
        values = image[region].astype(np.float64)
        out[f"mean_{name}"] = values.mean() if values.size else np.nan
        if name in ("bg", "myo"):
            out[f"std_{name}"] = values.std() if values.size else np.nan
    near = sector & (rows < 0.15)
    far = sector & (rows > 0.75)
    out["near"] = image[near].mean() if near.any() else np.nan
    out["far"] = image[far].mean() if far.any() else np.nan
    return out


def collect(images, masks, sectors) -> dict[str, np.ndarray]:
    rows = [image_stats(i, m, s) for i, m, s in zip(images, masks, sectors)]
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def percentiles(values: np.ndarray, qs=(5, 50, 95)) -> np.ndarray:
    values = values[np.isfinite(values)]
    return np.percentile(values, qs)


def simulated(masks: list[np.ndarray], ranges: dict, seeds: list[int]) -> list[np.ndarray]:
    saved = dict(style_module.STYLE_RANGES)
    style_module.STYLE_RANGES.update(ranges)
    try:
        return [simulate(mask, seed=seed) for mask, seed in zip(masks, seeds)]
    finally:
        style_module.STYLE_RANGES.clear()
        style_module.STYLE_RANGES.update(saved)


def loss(targets: dict, stats: dict) -> float:
    total = 0.0
    for name, (target, scale) in targets.items():
        got = percentiles(stats[name])
        total += (abs(got[1] - target[1]) + 0.5 * abs(got[0] - target[0]) + 0.5 * abs(got[2] - target[2])) / scale
    return total


def fit(real: dict, masks, sectors, seeds, passes: int, log) -> dict:
    targets = {name: (percentiles(values), max(np.ptp(percentiles(values)), 5.0)) for name, values in real.items()}
    table = {name: style_module.STYLE_RANGES[name] for name in style_module.FITTED}

    def evaluate(candidate: dict) -> float:
        return loss(targets, collect(simulated(masks, candidate, seeds), masks, sectors))

    steps = {(n, side): 0.3 * max(table[n][1] - table[n][0], 0.2) for n in table for side in (0, 1)}
    return search_ranges(table, style_module.FITTED, evaluate, steps, BOUNDS, passes, log,
                         min_width=1e-3, min_step=1e-2)


def write_table(table: dict, source: str) -> None:
    path = HERE / "engine" / "simulator" / "style.py"
    text = path.read_text()
    for name, (low, high) in table.items():
        text = re.sub(rf'"{name}": \([^)]*\)', f'"{name}": ({low:.3f}, {high:.3f})', text)
    text = re.sub(r'STYLE_SOURCE = "[^"]*"', f'STYLE_SOURCE = "{source}"', text)
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="prepared dataset of real images")
    parser.add_argument("--split", default="train")
    parser.add_argument("--images", type=int, default=120, help="real pairs used (spread over patients)")
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--size", type=int, default=128, help="resolution of the comparison")
    args = parser.parse_args()
    started = time.time()
    dataset = PairedDataset(args.data, args.split, size=args.size)
    picks = np.linspace(0, len(dataset) - 1, args.images).round().astype(int)
    pairs = [dataset.load_pair(int(i)) for i in picks]
    images, masks = [p[0] for p in pairs], [p[1] for p in pairs]
    sectors = [sector_mask(i, m) for i, m in zip(images, masks)]
    real = collect(images, masks, sectors)
    seeds = [int(i) for i in picks]
    before = collect(simulated(masks, {}, seeds), masks, sectors)
    table = fit(real, masks, sectors, seeds, args.passes, lambda m: print(m, flush=True))
    write_table(table, f"fitted to {args.images} real images ({args.split} split) by scripts/fit_simulator.py")
    after = collect(simulated(masks, table, seeds), masks, sectors)
    print(f"{'':12} {'real 5/50/95':>22} {'before':>22} {'after':>22}")
    for name in real:
        cells = [" / ".join(f"{v:5.1f}" for v in percentiles(d[name])) for d in (real, before, after)]
        print(f"{name:12} " + " ".join(f"{c:>22}" for c in cells))
    print(json.dumps({k: list(v) for k, v in table.items()}))
    print(f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
