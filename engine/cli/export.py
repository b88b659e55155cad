"""``cardigan export``: synthetic image/mask pairs in bulk, as a segmentation dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_device_argument, add_model_argument

HELP = "export synthetic image/mask pairs (png folders, the seed's HDF5, or CAMUS NIfTI)"
DESCRIPTION = (
    "Synthesize images for a folder of label maps (--masks, names kept) or for N generated "
    "patients (--random N: 2CH and 4CH at ED and ES each; with --like DATASET made by deforming "
    "the masks of a dataset or folder instead of the anatomy generator), K variations per map, "
    "and write a "
    "segmentation dataset: png (prepared folders + manifest), hdf5 (the seed's layout), or "
    "nifti (the CAMUS 2023 layout). A non-empty output folder is refused without --overwrite.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--masks", type=Path, help="folder of label maps (PNG, *_gt.mhd, *_gt.nii.gz)")
    source.add_argument("--random", type=int, metavar="N",
                        help="N generated patients, each 2 views x 2 instants: --random 3 gives 12 pairs")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--variations", type=int, default=1, metavar="K", help="images per mask (default 1)")
    parser.add_argument("--format", default="png", choices=["png", "hdf5", "nifti"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--like", type=Path, default=None, metavar="DATASET",
                        help="with --random: new patients made from these masks (a prepared "
                             "dataset's train split or a folder of masks), smoothly deformed so "
                             "the topology is kept")
    parser.add_argument("--size", type=int, default=256, help="generated masks' size (with --random)")
    add_device_argument(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier export in --out")


def run(args: argparse.Namespace) -> int:
    from ..export import export_dataset
    from .terminal import TerminalProgress, note

    if args.random:
        from ..export.sources import random_plan

        plan, empty = random_plan(args.random, args.seed)
        note(plan)
        if empty:
            note(f"warning: no patient in {' or '.join(empty)} (use --random 3 or more for every split)")
    bars = TerminalProgress()
    try:
        manifest = export_dataset(args.model, args.out, masks=args.masks, random=args.random,
                                  like=args.like,
                                  variations=args.variations, format=args.format, seed=args.seed,
                                  size=args.size, device=args.device, overwrite=args.overwrite,
                                  progress=bars)
    finally:
        bars.close()
    counts = ", ".join(f"{split} {n}" for split, n in manifest["counts"].items())
    note(f"wrote {args.out} ({args.format}): {counts} pairs")
    return 0
