"""``cardigan prepare``: a CAMUS source or SPADE folders -> paired image/label folders with a manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..units import counted
from .options import instants_value, int_in_range, seed_value, views_value

MIN_SIZE, MAX_SIZE = 32, 4096  # as engine.data.prepare checks (not imported here: parsing stays light)
SOURCE_FORMATS = ("auto", "hdf5", "camus2019", "camus2023", "folders", "nnunet")

HELP = ("prepare CAMUS data (seed HDF5, 2019 or 2023 release, SPADE folders, an nnU-Net dataset) into "
        "image/label folders")
DESCRIPTION = ("Read the seed's HDF5 file, a CAMUS release folder or the image and label folders "
               "an NVlabs SPADE run trains on (pairs matched by name, not by order), or an nnU-Net v2 "
               "raw dataset, and write "
               "<out>/<split>/img/<stem>.png and <out>/<split>/label/<stem>.png with a "
               "manifest.json (NVlabs SPADE --dataset_mode custom compatible). The output "
               "appears only when the whole run succeeded.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, type=Path,
                        help="the seed HDF5 file, a CAMUS 2019/2023 release folder, or image and label "
                             "folders as NVlabs SPADE reads them (train_img + train_label, "
                             "train/img + train/label, or img + label), or an nnU-Net v2 raw dataset "
                             "(dataset.json, imagesTr, labelsTr)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--format", default="auto", choices=SOURCE_FORMATS, metavar="FORMAT",
                        help=f"source layout: {', '.join(SOURCE_FORMATS)} (default: auto, detect it)")
    parser.add_argument("--views", type=views_value, default="2CH,4CH", help="comma-separated views (default 2CH,4CH)")
    parser.add_argument("--instants", type=instants_value, default="ED,ES",
                        help="comma-separated instants (default ED,ES)")
    parser.add_argument("--size", type=int_in_range(MIN_SIZE, MAX_SIZE), default=256,
                        help="output size in pixels (default 256)")
    parser.add_argument("--seed", type=seed_value, default=0,
                        help="seed of the 80/10/10 patient split where the source has none (default 0)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing prepared dataset at --out")
    parser.add_argument("--workers", type=int_in_range(1, 256), default=None,
                        help="processes to use (default: one per core for large sources)")
    parser.add_argument("--sequences", action="store_true",
                        help="also keep the CAMUS 2023 half sequences (*_half_sequence.nii.gz with _gt), "
                             "one pair per frame <patient>_<view>_f<k>, listed in the manifest")


def run(args: argparse.Namespace) -> int:
    from ..data.prepare import fan_fit_line, label_formats_line, prepare_dataset
    from ..data.sources import FORMAT_NAMES, detect_format
    from .terminal import TerminalProgress, note

    fmt = detect_format(args.source) if args.format == "auto" else args.format
    source_line = f"source: {args.source} ({FORMAT_NAMES[fmt]}{', detected' if args.format == 'auto' else ''})"
    bar = TerminalProgress()

    def progress(event) -> None:  # the note once the work starts: a refusal is the only line
        nonlocal source_line
        if source_line:
            note(source_line)
            source_line = ""
        bar(event)

    try:
        manifest = prepare_dataset(args.source, args.out, format=fmt, views=args.views,
                                   instants=args.instants, size=args.size, seed=args.seed,
                                   overwrite=args.overwrite, progress=progress, workers=args.workers,
                                   sequences=args.sequences)
    finally:
        bar.close()
    report_skipped(manifest.get("skipped", []))
    counts = manifest["counts"]
    patients = manifest["patients"]
    note(f"wrote {args.out}: " + ", ".join(f"{split} {counted(counts[split], 'pair')} "
                                           f"({counted(patients[split], 'patient')})"
                                           for split in counts)
         + f"; splits from {manifest['source']['split_source']}")
    if "fan_fit" in manifest:
        note(fan_fit_line(manifest["fan_fit"]))
    if label_formats_line(manifest.get("label_formats", {})):
        note(label_formats_line(manifest["label_formats"]))
    return 0


def report_skipped(skipped: list[dict], shown: int = 5) -> None:
    """One line for the patients left out (the full list is in the manifest)."""
    from .terminal import note

    if not skipped:
        return
    names = ", ".join(f"{s['patient']} ({s['reason']})" for s in skipped[:shown])
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    note(f"skipped {len(skipped)} patient(s): {names}{more}; see manifest.json")
