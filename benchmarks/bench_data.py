"""Data benchmarks: simulator time per image, mask generation, and ``prepare`` throughput.

    python benchmarks/bench_data.py                       # simulator + masks only
    python benchmarks/bench_data.py --prepare 500         # + prepare of a 500-patient HDF5
    python benchmarks/bench_data.py --prepare 500 --hdf5 /tmp/phantom500.hdf5   # reuse/keep it
    python benchmarks/bench_data.py --images 0 --grid docs/images/phantom_grid.png

The prepare benchmark builds the source with the same code as
``cardigan phantom --format hdf5 --count N`` (500 patients x 2 views x 2 phases = 2000
pairs) unless ``--hdf5`` names an existing file, then times ``prepare_dataset`` on it
(quality bar: <= 20 s on 2 cores; simulator: <= 50 ms per 256x256 image).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def bench_simulator(images: int, size: int) -> None:
    import numpy as np

    from engine.anatomy import PHASES, VIEWS, make_mask, random_patient
    from engine.simulator import simulate

    masks = [(make_mask(random_patient(s), v, p, size), v) for s in range(8) for v in VIEWS for p in PHASES]
    for labels, view in masks[:4]:  # warm caches (polar grids, filters)
        simulate(labels, seed=0, view=view)
    times = []
    for i in range(images):
        labels, view = masks[i % len(masks)]
        start = time.perf_counter()
        simulate(labels, seed=i, view=view)
        times.append(time.perf_counter() - start)
    times_ms = np.array(times) * 1000
    print(f"simulator {size}x{size}: median {np.median(times_ms):.1f} ms, mean {times_ms.mean():.1f} ms, "
          f"p90 {np.percentile(times_ms, 90):.1f} ms per image ({images} images, 1 process)")

    start = time.perf_counter()
    for s in range(50):
        make_mask(random_patient(s), "4CH", "ED", size)
    print(f"mask generator {size}x{size}: {(time.perf_counter() - start) / 50 * 1000:.1f} ms per mask")


def bench_prepare(count: int, hdf5: Path | None, workers: int | None, repeats: int) -> None:
    from engine.data.phantom import write_phantom
    from engine.data.prepare import prepare_dataset

    work = Path(tempfile.mkdtemp(prefix="cardigan-bench-"))
    try:
        source = hdf5 or work / f"phantom{count}.hdf5"
        if not source.is_file():
            start = time.perf_counter()
            write_phantom(source, count=count, format="hdf5", seed=0)
            print(f"phantom --format hdf5 --count {count}: {time.perf_counter() - start:.1f} s "
                  f"({source.stat().st_size / 1e6:.0f} MB)")
        runs = []
        for r in range(repeats):
            out = work / f"prepared{r}"
            start = time.perf_counter()
            manifest = prepare_dataset(source, out, workers=workers)
            runs.append(time.perf_counter() - start)
            pairs = sum(manifest["counts"].values())
            shutil.rmtree(out)
        print(f"prepare {source.name} ({pairs} pairs): " + ", ".join(f"{t:.2f} s" for t in runs)
              + f" (median {statistics.median(runs):.2f} s, {pairs / statistics.median(runs):.0f} pairs/s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_grid(path: Path, seeds: tuple[int, ...] = (0, 1, 2), tile: int = 208) -> None:
    """Masks and simulated images, 2CH/4CH x ED/ES, one pair of rows per generated patient."""
    import numpy as np
    from PIL import Image, ImageDraw

    from engine.anatomy import PHASES, VIEWS, make_mask, random_patient
    from engine.data.phantom import derive_seed
    from engine.labels import colorize
    from engine.simulator import simulate

    columns = [(view, phase) for view in VIEWS for phase in PHASES]
    header = 18
    sheet = Image.new("RGB", (tile * len(columns), header + 2 * tile * len(seeds)), "black")
    draw = ImageDraw.Draw(sheet)
    for c, (view, phase) in enumerate(columns):
        draw.text((c * tile + 6, 3), f"{view} {phase}", fill=(230, 230, 230))
    for r, seed in enumerate(seeds):
        patient = random_patient(seed)
        for c, (view, phase) in enumerate(columns):
            labels = make_mask(patient, view, phase, 256)
            image = simulate(labels, seed=derive_seed(seed, c), view=view, patient_seed=seed, phase=phase)
            y = header + 2 * r * tile
            sheet.paste(Image.fromarray(colorize(labels)).resize((tile, tile), Image.Resampling.NEAREST),
                        (c * tile, y))
            sheet.paste(Image.fromarray(np.stack([image] * 3, -1)).resize((tile, tile), Image.Resampling.LANCZOS),
                        (c * tile, y + tile))
        draw.text((4, header + 2 * r * tile + 4), f"patient seed {seed}", fill=(230, 230, 230))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100, help="simulated images to time")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--prepare", type=int, default=0, metavar="N",
                        help="also time prepare of an N-patient seed-layout HDF5")
    parser.add_argument("--hdf5", type=Path, help="use (or create and keep) this HDF5 source")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--grid", type=Path, help="also write a PNG sheet of masks and simulated images")
    args = parser.parse_args(argv)
    print(f"cores available: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}, "
          f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.grid:
        write_grid(args.grid)
    if args.images:
        bench_simulator(args.images, args.size)
    if args.prepare:
        if args.hdf5 is not None and not args.hdf5.is_file():
            from engine.data.phantom import write_phantom

            start = time.perf_counter()
            write_phantom(args.hdf5, count=args.prepare, format="hdf5", seed=0)
            print(f"phantom --format hdf5 --count {args.prepare}: {time.perf_counter() - start:.1f} s")
        bench_prepare(args.prepare, args.hdf5, args.workers, args.repeats)


if __name__ == "__main__":
    main()
