"""``cardigan phantom``: synthetic image/label pairs from generated patients."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..units import counted
from .options import instants_value, int_in_range, seed_value, views_value

HELP = "make a synthetic dataset with the mask generator and the ultrasound simulator"
DESCRIPTION = ("Generate COUNT synthetic patients, each with every view x instant pair "
               "(default 2CH, 4CH x ED, ES), split 80/10/10 by patient (every split gets one "
               "from 3 patients on; fewer all go to train). --format folders "
               "writes the prepared layout with a manifest (like `cardigan prepare`); "
               "--format hdf5 writes the seed's HDF5 layout to the file --out (or "
               "phantom.hdf5 inside an existing folder), which `cardigan prepare` reads (keeping the "
               "patients' hearts and ejection fractions in its manifest).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder (folders) or .hdf5 file (hdf5)")
    parser.add_argument("--count", type=int_in_range(1, 1_000_000), default=100,
                        help="number of patients (default 100)")
    parser.add_argument("--size", type=int_in_range(32, 2048), default=256,
                        help="image size in pixels (default 256)")
    parser.add_argument("--seed", type=seed_value, default=0, help="seed of the whole data set (default 0)")
    parser.add_argument("--format", default="folders", choices=("folders", "hdf5"),
                        help="output layout (default folders)")
    parser.add_argument("--views", type=views_value, default="2CH,4CH", help="comma-separated views (default 2CH,4CH)")
    parser.add_argument("--instants", type=instants_value, default="ED,ES",
                        help="comma-separated instants (default ED,ES), as in prepare")
    # the option's earlier name, still read; the help names the one word the commands share
    parser.add_argument("--phases", dest="instants", type=instants_value, default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--workers", type=int_in_range(1, 256), default=None,
                        help="processes to use (default: one per core for large counts)")


def run(args: argparse.Namespace) -> int:
    from ..data.phantom import phantom_splits, write_phantom
    from .terminal import TerminalProgress, note

    bar = TerminalProgress()
    try:
        manifest = write_phantom(args.out, count=args.count, size=args.size, seed=args.seed,
                                 format=args.format, views=args.views, phases=args.instants,
                                 overwrite=args.overwrite, progress=bar, workers=args.workers)
    finally:
        bar.close()
    empty = [split for split, members in phantom_splits(args.count, args.seed).items() if not members]
    if empty:
        note(f"warning: no patient in {' or '.join(empty)} (use --count 3 or more for every split)")
    counts = manifest["counts"]
    note(f"wrote {manifest['output']['path']} ({args.format}): "
         + ", ".join(f"{split} {counted(counts[split], 'pair')}" for split in counts))
    return 0
